// Copied unchanged from the anchor harness (docs/anchor-bench.md).
// fixed CPU work; prints ms taken (lower = faster CPU available)
const t0 = process.hrtime.bigint();
let x = 0;
for (let i = 0; i < 2e8; i++) {
  x = (x + i * 7) % 1000003;
}
const ms = Number(process.hrtime.bigint() - t0) / 1e6;
console.log(ms.toFixed(0), x);
