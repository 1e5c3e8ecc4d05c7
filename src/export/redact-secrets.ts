/**
 * Keeps a sender's credentials out of the error texts the queue logs: `text` with each
 * non-empty secret (URL userinfo) replaced by `***`.
 */
export function redactSecrets(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const secret of secrets) if (secret !== '') out = out.split(secret).join('***');
  return out;
}
