// One diverging scale for the whole product: blue for positive, orange for negative, white at zero.
// Blue/orange stays distinct for every common form of colour blindness (unlike red/green).
export const POS = [29, 111, 214];
export const NEG = [232, 115, 12];
const WHITE = [255, 255, 255];

// t in [-1, 1] -> rgb string.
export function diverging(t, alpha = 1) {
  const clamped = Math.max(-1, Math.min(1, Number.isFinite(t) ? t : 0));
  const end = clamped >= 0 ? POS : NEG;
  const k = Math.abs(clamped);
  const c = WHITE.map((w, i) => Math.round(w + (end[i] - w) * k));
  return `rgba(${c[0]},${c[1]},${c[2]},${alpha})`;
}

// Same scale as [r, g, b] for writing pixels straight into ImageData.
export function divergingRGB(t) {
  const clamped = Math.max(-1, Math.min(1, Number.isFinite(t) ? t : 0));
  const end = clamped >= 0 ? POS : NEG;
  const k = Math.abs(clamped);
  return [WHITE[0] + (end[0] - WHITE[0]) * k, WHITE[1] + (end[1] - WHITE[1]) * k, WHITE[2] + (end[2] - WHITE[2]) * k];
}

export function signColor(value, alpha = 1) {
  const c = value >= 0 ? POS : NEG;
  return `rgba(${c[0]},${c[1]},${c[2]},${alpha})`;
}

// One colour per compared run (Okabe-Ito: told apart with every common colour blindness), each
// with its own dash so the lines differ in grey-scale print too.
export const RUN_COLORS = ["#0072B2", "#D55E00", "#009E73", "#CC79A7"];
export const RUN_DASHES = [[], [7, 4], [2, 3], [9, 3, 2, 3]];

// One colour per class of a K-class data set (Okabe-Ito, told apart with every common colour
// blindness; its yellow left out, too pale on white). Class k is CLASS_COLORS[k].
export const CLASS_COLORS = ["#E69F00", "#56B4E9", "#009E73", "#0072B2", "#D55E00", "#CC79A7"];
export const CLASS_RGB = CLASS_COLORS.map((hex) => [1, 3, 5].map((i) => Number.parseInt(hex.slice(i, i + 2), 16)));

// A class colour mixed with white: share 0 is white, 1 the full colour.
export function classRGB(k, share) {
  return CLASS_RGB[k % CLASS_RGB.length].map((c) => 255 + (c - 255) * share);
}
