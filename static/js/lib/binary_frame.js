// Decodes the optional binary update frame: uint32 LE header length H, H bytes of UTF-8 JSON,
// zero padding to a multiple of 4, then float32 LE arrays in the header's "arrays" order.
import { Matrix } from "./matrix.js";

export function decodeBinaryFrame(buffer) {
  const view = new DataView(buffer);
  const headerLength = view.getUint32(0, true);
  const header = JSON.parse(new TextDecoder().decode(new Uint8Array(buffer, 4, headerLength)));
  let offset = Math.ceil((4 + headerLength) / 4) * 4;
  const floats = new Float32Array(buffer.slice(offset));
  offset = 0;
  for (const [field, layer, shape] of header.arrays || []) {
    const size = shape.reduce((a, b) => a * b, 1);
    // Float64 copy: the views do arithmetic on these and must not see float32 rounding twice.
    const data = Float64Array.from(floats.subarray(offset, offset + size));
    offset += size;
    if (!header[field]) header[field] = [];
    header[field][layer] = shape.length === 2 ? new Matrix(shape[0], shape[1], data) : data;
  }
  delete header.arrays;
  return header;
}
