// Numbers on screen: short by default; null/NaN (non-finite values arrive as null) shown as a dash.
export function fmt(value, digits = 4) {
  if (value === null || value === undefined || Number.isNaN(value)) return "–";
  if (!Number.isFinite(value)) return value > 0 ? "∞" : "−∞";
  if (value === 0) return "0";
  const abs = Math.abs(value);
  if (abs >= 1e5 || abs < 1e-3) return minus(value.toExponential(digits - 1));
  return minus(String(Number(value.toPrecision(digits))));
}

// Six significant digits: used where a test or a student compares with the API's value.
export function fmtExact(value) {
  return fmt(value, 6);
}

// A factor or term as written out in a sum or product: negatives in parentheses, "0.9 × (−0.28)".
export function fmtFactor(value, digits = 4) {
  return value < 0 ? `(${fmt(value, digits)})` : fmt(value, digits);
}

// A typographic minus reads better in tables and tooltips.
function minus(text) {
  return text.replace(/^-/, "−").replace("e-", "e−");
}

export function fmtInt(value) {
  return value === null || value === undefined ? "–" : Number(value).toLocaleString("en-US");
}
