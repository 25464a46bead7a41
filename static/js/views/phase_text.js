// The words and tables for each phase of one update. Every value printed comes from the server's
// /explain answer; the only arithmetic here is the chain-rule sum Σₖ wⱼₖ·δₖ, shown so a student
// can check δ = (Σₖ wⱼₖ·δₖ)·f′(net) by hand.
import { fmt, fmtFactor } from "../lib/format.js";
import { escapeHtml } from "../lib/html.js";

const MAX_ROWS = 16;
const num = (v, attrs = "") => `<td class="${v < 0 ? "neg" : "pos"}" ${attrs}>${fmt(v, 5)}</td>`;
const more = (n) => (n > MAX_ROWS ? `<p class="muted small">Showing the first ${MAX_ROWS} of ${n}.</p>` : "");

function table(head, rows) {
  return `<div class="table-scroll"><table class="num-table"><thead><tr>${head.map((h) => `<th scope="col">${h}</th>`).join("")}</tr></thead><tbody>${rows.join("")}</tbody></table></div>`;
}

export function phaseHtml(explain, phase, m) {
  if (phase.kind === "forward") return forwardHtml(explain, phase.layer, m);
  if (phase.kind === "loss") return lossHtml(explain, m);
  if (phase.kind === "backward") return backwardHtml(explain, phase.layer, m);
  return updateHtml(explain, m);
}

function fname(explain, l) {
  const L = explain.weights.length;
  return l === L ? explain.output_activation : explain.activations[l - 1];
}

function forwardHtml(explain, l, m) {
  const W = m.weights[l - 1];
  const a = m.activation[l - 1];
  const b = m.biases[l - 1];
  const f = fname(explain, l);
  const expand = W.rows <= 4;
  const rows = [];
  for (let j = 0; j < Math.min(W.cols, MAX_ROWS); j++) {
    const terms = [];
    for (let i = 0; i < W.rows; i++) terms.push(`${fmtFactor(a[i], 3)}×${fmtFactor(W.get(i, j), 3)}`);
    const sum = explain.bias === false ? terms.join(" + ") : `${terms.join(" + ")} + ${fmtFactor(b ? b[j] : 0, 3)}`;
    rows.push(
      `<tr><td>${j}</td>${expand ? `<td class="expand">${escapeHtml(sum)}</td>` : ""}${num(m.net[l - 1][j])}${num(m.activation[l][j])}</tr>`,
    );
  }
  const listed = explain.activations[l - 1];
  const ceNote =
    l === explain.weights.length && explain.loss_name === "cross_entropy"
      ? `<p>With cross-entropy the output layer applies ${escapeHtml(f)}, whatever activation is listed for it (${escapeHtml(listed)} here).</p>`
      : "";
  return `<h3>Forward, layer ${l}: each neuron sums its inputs, then applies ${escapeHtml(f)}</h3>${ceNote}
    <p class="formula">net⁽${l}⁾ = a⁽${l - 1}⁾ · W⁽${l - 1}⁾${explain.bias === false ? "" : ` + b⁽${l - 1}⁾`} &nbsp;&nbsp; a⁽${l}⁾ = ${escapeHtml(f)}(net⁽${l}⁾)${explain.bias === false ? " &nbsp; (no biases)" : ""}</p>
    <p>Sample ${explain.sample} of the batch${explain.row !== undefined && explain.row !== explain.sample ? ` (training row ${explain.row})` : ""}: x = (${explain.x.map((v) => fmt(v, 4)).join(", ")}).</p>
    ${table(["neuron", ...(expand ? [explain.bias === false ? "Σᵢ aᵢ·wᵢⱼ" : "Σᵢ aᵢ·wᵢⱼ + bⱼ"] : []), "net", `a = ${escapeHtml(f)}(net)`], rows)}${more(W.cols)}`;
}

function lossHtml(explain, m) {
  const L = m.weights.length;
  const yhat = m.activation[L];
  const rows = Array.from(
    yhat.slice(0, MAX_ROWS),
    (v, k) => `<tr><td>${k}</td>${num(v)}${num(explain.y[k])}${num(v - explain.y[k])}</tr>`,
  );
  const formula =
    explain.loss_name === "mse"
      ? "L = (1/N) Σₙ ½ ‖ŷₙ − yₙ‖²"
      : yhat.length === 1
        ? "L = −(1/N) Σₙ [yₙ log ŷₙ + (1 − yₙ) log(1 − ŷₙ)]"
        : "L = −(1/N) Σₙ Σₖ yₙₖ log ŷₙₖ";
  return `<h3>Loss: how far the outputs are from the targets</h3>
    <p class="formula">${formula}</p>
    <p>Over the batch of N = ${explain.batch_size} samples the loss is <strong class="mono" data-testid="bts-loss">${fmt(explain.loss, 6)}</strong>.
      For sample ${explain.sample}:</p>
    ${table(["output", "ŷ", "y", "ŷ − y"], rows)}`;
}

function backwardHtml(explain, l, m) {
  const L = m.weights.length;
  const f = fname(explain, l);
  const noDerivative = explain.variant === "no_activation_derivative";
  const ce = explain.loss_name === "cross_entropy";
  // Softmax's cross-entropy: δ = (ŷ·Σₖyₖ − y)/N, which is (ŷ − y)/N when the targets sum to 1.
  const targetSum = explain.y.reduce((sum, v) => sum + v, 0);
  const softmaxCe = ce && explain.y.length > 1;
  const rows = [];
  const n = m.sampleDeltas[l - 1].length;
  for (let j = 0; j < Math.min(n, MAX_ROWS); j++) {
    let incoming;
    if (l === L) incoming = m.activation[L][j] * (softmaxCe ? targetSum : 1) - explain.y[j];
    else {
      incoming = 0;
      const W = m.weights[l];
      for (let k = 0; k < W.cols; k++) incoming += W.get(j, k) * m.sampleDeltas[l][k];
    }
    const unused = (ce && l === L) || noDerivative; // f′ cancels, or the variant leaves it out
    rows.push(
      `<tr><td>${j}</td>${num(incoming)}${unused ? "<td>–</td>" : num(m.derivative[l - 1][j])}${num(m.sampleDeltas[l - 1][j])}${num(m.deltas[l - 1][j])}</tr>`,
    );
  }
  const fprime = noDerivative ? "" : " · f′(net)";
  let formula;
  if (l === L && softmaxCe)
    formula = `δ⁽${L}⁾ = (ŷ · Σₖ yₖ − y) / N &nbsp; (softmax and cross-entropy: f′ cancels; Σₖ yₖ = ${fmt(targetSum, 6)} for this sample, 1 for a one-hot label)`;
  else if (l === L)
    formula = ce
      ? `δ⁽${L}⁾ = (ŷ − y) / N &nbsp; (${escapeHtml(f)} and cross-entropy: f′ cancels)`
      : `δ⁽${L}⁾ = (ŷ − y)${fprime} / N`;
  else formula = `δ⁽${l}⁾ⱼ = (Σₖ W⁽${l}⁾ⱼₖ · δ⁽${l + 1}⁾ₖ)${fprime}`;
  const first = l === L ? (softmaxCe ? "ŷ·Σy − y" : "ŷ − y") : "Σₖ wⱼₖ·δₖ";
  return `<h3>Backward, layer ${l}: the error flows back through the weights</h3>
    <p class="formula">${formula}</p>
    ${noDerivative ? "<p>Variant without f′(net): the factor f′(net) is left out on purpose.</p>" : ""}
    <p>For sample ${explain.sample}; the last column sums δ over all ${explain.batch_size} samples of the batch, ${explain.bias === false ? "which would be ∂L/∂b if the network had biases (it has none)" : "which is ∂L/∂b"}.</p>
    ${table(["neuron", first, noDerivative ? "f′(net): left out" : "f′(net)", "δ (this sample)", explain.bias === false ? "Σₙ δ" : "Σₙ δ = ∂L/∂b"], rows)}${more(n)}`;
}

function updateHtml(explain, m) {
  const lr = explain.learning_rate;
  const mu = explain.momentum || 0;
  // With momentum the step is −α·v (v carries earlier gradients), so show the real change too.
  const change = mu ? "Δw = new − old" : "−α·∂L/∂w";
  const parts = m.weights.map((W, l) => {
    const rows = [];
    const G = m.gradients[l];
    const N = m.newWeights[l];
    for (let k = 0; k < Math.min(W.data.length, MAX_ROWS); k++) {
      const i = Math.floor(k / W.cols);
      const j = k % W.cols;
      const delta = mu ? N.data[k] - W.data[k] : -lr * G.data[k];
      // With momentum, the engine's velocities: μ·v of the earlier steps, and the v it moves by.
      const velocity = mu ? `${num(mu * explain.previous_velocity[l][i][j])}${num(explain.velocity[l][i][j])}` : "";
      rows.push(
        `<tr data-l="${l}" data-i="${i}" data-j="${j}"><td>${i} → ${j}</td>${num(W.data[k])}${num(G.data[k])}${velocity}${num(delta)}${num(N.data[k], `data-w-after="${N.data[k]}"`)}</tr>`,
      );
    }
    const velocityHead = mu ? ["μ·v (earlier steps)", "v = μ·v + ∂L/∂w"] : [];
    return `<h3>W⁽${l}⁾: layer ${l} → layer ${l + 1}</h3>${table(["i → j", "w", "∂L/∂w = Σₙ aᵢ·δⱼ", ...velocityHead, change, "new w"], rows)}${more(W.data.length)}`;
  });
  const rule = mu
    ? `v ← ${fmt(mu, 4)}·v + ∂L/∂W &nbsp;&nbsp; W ← W − α · v &nbsp;&nbsp; (α = ${fmt(lr, 6)}, momentum μ = ${fmt(mu, 4)})`
    : `W ← W − α · ∂L/∂W${explain.bias === false ? "" : " &nbsp;&nbsp; b ← b − α · Σₙ δ"} &nbsp;&nbsp; (α = ${fmt(lr, 6)})`;
  return `<h3>Update: every weight moves against its derivative</h3>
    <p class="formula">${rule}</p>
    <p data-pending>The network view now shows the new weights; the server has not taken this step yet. The button below makes it take it, unless the run has moved on since this update was explained.</p>
    ${parts.join("")}`;
}
