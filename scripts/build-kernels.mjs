// Compiles src/codec/kernels.wat to dist/src/codec/kernels.wasm (run by `npm run build` after tsc).
// wabt is the WebAssembly Binary Toolkit's own assembler, compiled to JavaScript.
import * as fs from 'node:fs';
import wabtInit from 'wabt';

const src = new URL('../src/codec/kernels.wat', import.meta.url);
const out = new URL('../dist/src/codec/kernels.wasm', import.meta.url);
const wabt = await wabtInit();
const mod = wabt.parseWat('kernels.wat', fs.readFileSync(src, 'utf8'), { simd: true, sat_float_to_int: true });
mod.validate();
fs.mkdirSync(new URL('.', out), { recursive: true });
fs.writeFileSync(out, mod.toBinary({}).buffer);
mod.destroy();
