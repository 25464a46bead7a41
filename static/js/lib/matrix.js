// Weights travel as nested lists (JSON) or flat float32 (binary); views use one flat, row-major
// form so a 100k-weight frame is one typed array, not 300 JS arrays. null (non-finite) -> NaN.
export class Matrix {
  constructor(rows, cols, data) {
    this.rows = rows;
    this.cols = cols;
    this.data = data || new Float64Array(rows * cols);
  }

  get(i, j) {
    return this.data[i * this.cols + j];
  }

  static fromNested(nested) {
    const rows = nested.length;
    const cols = rows ? nested[0].length : 0;
    const data = new Float64Array(rows * cols);
    for (let i = 0; i < rows; i++) {
      const row = nested[i];
      for (let j = 0; j < cols; j++) {
        const v = row[j];
        data[i * cols + j] = v === null ? NaN : v;
      }
    }
    return new Matrix(rows, cols, data);
  }
}

export function vectorFrom(list) {
  if (list instanceof Float32Array || list instanceof Float64Array) return list;
  const out = new Float64Array(list.length);
  for (let i = 0; i < list.length; i++) out[i] = list[i] === null ? NaN : list[i];
  return out;
}

// Per-layer matrices from a frame field (already Matrix objects for binary frames).
export function matricesFrom(field) {
  if (!field) return null;
  return field.map((m) => (m instanceof Matrix ? m : Matrix.fromNested(m)));
}

export function vectorsFrom(field) {
  if (!field) return null;
  return field.map(vectorFrom);
}
