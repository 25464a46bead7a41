// The hover text: each number next to the formula it comes from, and labelled for what it is, so
// the chain rule is readable and never misleads. Rules kept here:
// - A product is written out only when its factors are the ones that make the result: one
//   sample's aᵢ·δⱼ (an explained update knows both), −α·∂L/∂w with the α of that very update.
// - ∂L/∂w and Σₙ δ of the live view belong to the update that made the weights shown (update k,
//   computed at the weights before it, over its batch); activations belong to the weights shown
//   (after update k). The text says which is which and never multiplies the one by the other.
// - With momentum the step applied is −α·v, not −α·∂L/∂w; it is shown as the change of w.
// - Under the shortcut variant (no f′(net)) the numbers are not derivatives of L: every label
//   names them by updateTerms (g, Σₙ δ) and never as ∂L/∂w, ∂L/∂b or ∂L/∂net.
// Every number has a span with data-role and data-value (the exact value) for tests.
import { fmt, fmtExact, fmtInt } from "../lib/format.js";
import { updateTerms } from "../lib/terms.js";

const SUB = "₀₁₂₃₄₅₆₇₈₉";
const SUP = "⁰¹²³⁴⁵⁶⁷⁸⁹";
const sub = (n) => String(n).replace(/\d/g, (d) => SUB[d]);
const sup = (n) => `⁽${String(n).replace(/\d/g, (d) => SUP[d])}⁾`;
const known = (v) => v !== undefined && v !== null;

// A number as shown (six significant digits) and, in data-value, exactly as received.
function num(role, value) {
  return `<span data-role="${role}" data-value="${known(value) ? value : ""}">${fmtExact(value)}</span>`;
}

// A factor of a product as written out: negative ones in parentheses.
const factor = (value) => (value < 0 ? `(${fmtExact(value)})` : fmtExact(value));

// Which weights a number comes from: step 0 holds the initial weights.
export function afterUpdate(step) {
  return step > 0 ? `after update ${fmtInt(step)}` : "initial";
}

export function weightsAt(step) {
  return step > 0 ? `the weights after update ${fmtInt(step)}` : "the initial weights";
}

function header(l, i, j) {
  return `<b>weight W${sub(l)}[${i}][${j}]</b>: neuron ${i} of layer ${l} → neuron ${j} of layer ${l + 1}`;
}

// The live (or past) view. d: {l, i, j, w, step, historical, gradient, rate, nextRate, momentum,
// wBefore (w after update step − 1, when that frame came), batch (words for the batch), perSample
// (where one sample's numbers are, or null)}.
export function edgeText(d) {
  const { l, i, j } = d;
  const t = updateTerms(d.variant);
  const a = `a${sub(i)}${sup(l)}`;
  const delta = `δ${sub(j)}${sup(l + 1)}`;
  const lines = [header(l, i, j), `w = ${num("w", d.w)}   (${afterUpdate(d.step)})`];
  if (d.historical) {
    lines.push(`${t.dW}: not kept for past steps (back to live for the latest update's)`);
    return lines.join("\n");
  }
  if (!known(d.gradient)) {
    lines.push(`${t.dW}: shown once an update is made here (step or play)`);
    return lines.join("\n");
  }
  lines.push(
    `<b>update ${fmtInt(d.step)}</b>, made at ${weightsAt(d.step - 1)}, on ${d.batch}:`,
    `${t.dW} = Σₙ ${a}·${delta} = ${num("gradient", d.gradient)}${t.shortcut ? "   (the update direction without f′(net))" : ""}`,
    `  a sum over the batch${d.perSample ? `: one sample's ${a}·${delta} is in ${d.perSample}` : ""}`,
  );
  lines.push(...appliedStep(d));
  if (known(d.nextRate) && known(d.rate) && d.nextRate !== d.rate)
    lines.push(`the next update uses α = ${num("next-rate", d.nextRate)}`);
  return lines.join("\n");
}

function appliedStep(d) {
  const t = updateTerms(d.variant);
  if (!d.momentum) {
    if (!known(d.rate)) return [];
    return [
      `step applied: −α·${t.dW} = −${num("rate", d.rate)} × ${factor(d.gradient)} = ${num("change", -d.rate * d.gradient)}`,
    ];
  }
  const lines = [
    `step applied: −α·v with v ← ${fmt(d.momentum, 4)}·v + ${t.dW} (momentum: earlier gradients count), not −α·${t.dW}`,
  ];
  if (known(d.wBefore)) lines.push(`  Δw = w − w before = ${num("change", d.w - d.wBefore)}`);
  else lines.push("  Δw: the frame of the update before was not sent (frames are thinned while it trains)");
  return lines;
}

// While an update is explained. d: {l, i, j, w, phase, wOld, wNew, sample, batchSize, a, delta (this
// sample's δⱼ, once the backward pass has reached it), gradient, rate, momentum, step}.
export function edgeTextExplained(d) {
  const { l, i, j } = d;
  const t = updateTerms(d.variant);
  const a = `a${sub(i)}${sup(l)}`;
  const delta = `δ${sub(j)}${sup(l + 1)}`;
  const lines = [header(l, i, j)];
  if (d.phase === "update")
    lines.push(`new w = ${num("w", d.w)}   (after update ${fmtInt(d.step + 1)}; was ${fmtExact(d.wOld)})`);
  else lines.push(`w = ${num("w", d.w)}   (${afterUpdate(d.step)}: what this update starts from)`);
  lines.push(`sample ${d.sample} of the batch: ${a} = ${num("a", d.a)}`);
  if (!known(d.delta) || !known(d.gradient)) {
    lines.push(`${t.dW}: once the backward pass reaches ${delta}`);
    return lines.join("\n");
  }
  lines.push(
    `  ${a} × ${delta} = ${factor(d.a)} × ${d.delta < 0 ? `(${num("delta", d.delta)})` : num("delta", d.delta)} = ${num("product", d.a * d.delta)}   (this sample's share)`,
    `${t.dW} = Σₙ ${a}·${delta} over the ${fmtInt(d.batchSize)} samples of the batch = ${num("gradient", d.gradient)}`,
  );
  if (!d.momentum)
    lines.push(
      `step: −α·${t.dW} = −${num("rate", d.rate)} × ${factor(d.gradient)} = ${num("change", -d.rate * d.gradient)}`,
    );
  else
    lines.push(
      `step: −α·v (momentum ${fmt(d.momentum, 4)}, earlier gradients count): Δw = new w − w = ${num("change", d.wNew - d.wOld)}`,
    );
  return lines.join("\n");
}

// d: {l, j, isInput, fname, values: {net, activation, dact} or null, mean (a count, or 0 for one
// sample), sample, where (which weights they come from), sampleDelta (an explained update only),
// deltaHead (which update Σₙ δ belongs to), deltaSum, sumNote, deltaNote (when δ is not shown)}.
export function neuronText(d) {
  const t = updateTerms(d.variant);
  const lines = [`<b>neuron ${d.j} of layer ${d.l}</b>  ${d.isInput ? "input" : d.fname}`];
  const v = d.values || {};
  if (d.isInput) {
    lines.push(
      d.mean
        ? `mean of x${sub(d.j)} over ${fmtInt(d.mean)} samples = ${num("act", v.activation)}`
        : `${d.sampleName}: a = x${sub(d.j)} = ${num("act", v.activation)}`,
    );
    return lines.join("\n");
  }
  if (d.mean) {
    // f(mean net) is not the mean of f(net): no "a = f(net)" here.
    lines.push(
      `means over ${fmtInt(d.mean)} samples, ${d.where}:`,
      `mean net = ${num("net", v.net)}`,
      `mean a = ${num("act", v.activation)}   (the mean of ${d.fname}(net), not ${d.fname} of the mean net)`,
      `mean f′(net) = ${num("dact", v.dact)}`,
    );
  } else {
    lines.push(
      `${d.sampleName}, ${d.where}:`,
      `net = Σᵢ aᵢ·wᵢ${sub(d.j)}${d.noBias ? "" : ` + b${sub(d.j)}`} = ${num("net", v.net)}`,
      `a = ${d.fname}(net) = ${num("act", v.activation)}`,
      `f′(net) = ${num("dact", v.dact)}`,
    );
  }
  if (known(d.sampleDelta)) lines.push(`${t.delta} for ${d.sampleName} = ${num("delta", d.sampleDelta)}`);
  if (d.deltaHead && known(d.deltaSum)) lines.push(d.deltaHead);
  if (known(d.deltaSum)) lines.push(`${d.noBias ? "Σₙ δ" : t.db} = ${num("delta-sum", d.deltaSum)}${d.sumNote || ""}`);
  if (d.deltaNote) lines.push(d.deltaNote);
  return lines.join("\n");
}
