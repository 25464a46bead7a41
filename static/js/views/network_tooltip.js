// The hover text: each number next to the formula it comes from, so the chain rule is readable.
import { fmt, fmtExact } from "../lib/format.js";

const SUB = "₀₁₂₃₄₅₆₇₈₉";
const SUP = "⁰¹²³⁴⁵⁶⁷⁸⁹";
const sub = (n) => String(n).replace(/\d/g, (d) => SUB[d]);
const sup = (n) => `⁽${String(n).replace(/\d/g, (d) => SUP[d])}⁾`;

export function edgeText({ l, i, j, w, gradient, delta, activation, lr, sampleLabel, historical }) {
  const lines = [
    `<b>weight W${sub(l)}[${i}][${j}]</b>: neuron ${i} of layer ${l} → neuron ${j} of layer ${l + 1}`,
    `w = <span data-role="w">${fmtExact(w)}</span>`,
  ];
  if (gradient === undefined || gradient === null || historical) {
    lines.push("∂L/∂w: shown after the first update (step or play)");
  } else {
    lines.push(
      `∂L/∂w = Σₙ δ${sub(j)}${sup(l + 1)} × a${sub(i)}${sup(l)}   (summed over the batch)`,
      `      = ${fmtExact(gradient)}`,
      `  δ${sub(j)}${sup(l + 1)}, the neuron it feeds: Σₙ δ = ${fmt(delta)}`,
      `  a${sub(i)}${sup(l)}, the neuron it leaves: ${sampleLabel} = ${fmt(activation)}`,
      `update −α·∂L/∂w = −${fmt(lr)} × ${fmt(gradient)} = ${fmtExact(-lr * gradient)}`,
    );
  }
  return lines.join("\n");
}

export function neuronText({ l, j, isInput, net, activation, dact, delta, fname, sampleLabel }) {
  const lines = [`<b>neuron ${j} of layer ${l}</b>  ${isInput ? "input" : fname}   (${sampleLabel})`];
  if (isInput) {
    lines.push(`a = x${sub(j)} = ${fmtExact(activation)}`);
    return lines.join("\n");
  }
  lines.push(
    `net = Σᵢ aᵢ·wᵢ${sub(j)} + b${sub(j)} = ${fmtExact(net)}`,
    `a = ${fname}(net) = ${fmtExact(activation)}`,
    `f′(net) = ${fmtExact(dact)}`,
    `δ = ∂L/∂net = ${delta === undefined || delta === null ? "shown after the first update" : fmtExact(delta)}`,
  );
  return lines.join("\n");
}
