// Decodes Zipkin v2 request bodies with the zipkin2 Java library (io.zipkin.zipkin2:zipkin),
// the decoder of the Zipkin server, SkyWalking's zipkin-receiver and Pitchfork
// (docs/zipkin-backends.md, sections 5.2 and 5.3).
//
// Usage: java -cp zipkin.jar:. ZipkinDecode FILE...
// One line per file, in order:
//   OK <encoding> <gzip|plain> <the decoded spans, re-encoded with SpanBytesEncoder.JSON_V2>
//   ERROR <message>
// A body starting with 1f 8b is gunzipped first; then '[' means JSON_V2, 0x0a means PROTO3.
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.List;
import java.util.zip.GZIPInputStream;
import zipkin2.Span;
import zipkin2.codec.SpanBytesDecoder;
import zipkin2.codec.SpanBytesEncoder;

public final class ZipkinDecode {
  public static void main(String[] args) throws IOException {
    StringBuilder out = new StringBuilder();
    for (String file : args) out.append(decodeFile(file)).append('\n');
    System.out.print(out);
    System.out.flush();
  }

  static String decodeFile(String file) {
    try {
      byte[] body = Files.readAllBytes(Paths.get(file));
      boolean gzip = body.length >= 2 && (body[0] & 0xff) == 0x1f && (body[1] & 0xff) == 0x8b;
      if (gzip) body = gunzip(body);
      if (body.length == 0) return "ERROR empty body";
      SpanBytesDecoder decoder;
      if (body[0] == '[') decoder = SpanBytesDecoder.JSON_V2;
      else if (body[0] == 0x0a) decoder = SpanBytesDecoder.PROTO3;
      else return "ERROR unknown encoding, first byte " + (body[0] & 0xff);
      List<Span> spans = new ArrayList<>();
      if (!decoder.decodeList(body, spans)) return "ERROR no spans decoded";
      String json = new String(SpanBytesEncoder.JSON_V2.encodeList(spans), StandardCharsets.UTF_8);
      return "OK " + decoder.name() + " " + (gzip ? "gzip" : "plain") + " " + json;
    } catch (IOException | RuntimeException e) {
      return "ERROR " + (e.getClass().getSimpleName() + ": " + e.getMessage()).replace('\n', ' ');
    }
  }

  static byte[] gunzip(byte[] body) throws IOException {
    try (InputStream in = new GZIPInputStream(new ByteArrayInputStream(body))) {
      ByteArrayOutputStream out = new ByteArrayOutputStream();
      byte[] buf = new byte[8192];
      for (int n; (n = in.read(buf)) > 0; ) out.write(buf, 0, n);
      return out.toByteArray();
    }
  }
}
