// The words and tables for each phase of one explained update. Every value printed comes from the
// server's /explain answer; the only arithmetic here is the chain-rule sum Σₖ wⱼₖ·δₖ and one
// sample's aᵢ·δⱼ, shown so a student can check them by hand. Each number's cell carries
// data-role, data-l/i/j and data-value (exactly as received) for tests.
import { fmt } from "../lib/format.js";
import { escapeHtml } from "../lib/html.js";
import { updateTerms } from "../lib/terms.js";

const MAX_ROWS = 16;
const more = (n) => (n > MAX_ROWS ? `<p class="muted small">Showing the first ${MAX_ROWS} of ${n}.</p>` : "");

// A number's cell. at: {l, i, j} where it sits.
function cell(v, role = "", at = {}, digits = 5) {
  const where = Object.entries(at)
    .map(([k, x]) => ` data-${k}="${x}"`)
    .join("");
  const data = role ? ` data-role="${role}"${where} data-value="${Number.isFinite(v) ? v : ""}"` : "";
  return `<td class="${v < 0 ? "neg" : "pos"}"${data}>${fmt(v, digits)}</td>`;
}

// A factor or term of a written-out sum: negative ones in parentheses, "0.9×(−0.28) + (−0.69)".
const signed = (v) => (v < 0 ? `(${fmt(v, 3)})` : fmt(v, 3));

// The fewest significant digits (5 at least) at which an old and a new value read differently.
export function digitsToDiffer(a, b) {
  for (let d = 5; d <= 17; d++) if (fmt(a, d) !== fmt(b, d)) return d;
  return 5;
}

function table(head, rows) {
  const th = head.map((h) => `<th scope="col">${h}</th>`).join("");
  return `<div class="table-scroll"><table class="num-table"><thead><tr>${th}</tr></thead><tbody>${rows.join("")}</tbody></table></div>`;
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

function sampleWords(explain) {
  const row = explain.row !== undefined && explain.row !== explain.sample ? ` (training row ${explain.row})` : "";
  return `sample ${explain.sample} of the batch${row}`;
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
    for (let i = 0; i < W.rows; i++) terms.push(`${signed(a[i])}×${signed(W.get(i, j))}`);
    const sum = explain.bias === false ? terms.join(" + ") : `${terms.join(" + ")} + ${signed(b ? b[j] : 0)}`;
    const at = { l, j };
    const expanded = expand ? `<td class="expand">${escapeHtml(sum)}</td>` : "";
    rows.push(
      `<tr><td>${j}</td>${expanded}${cell(m.net[l - 1][j], "net", at)}${cell(m.activation[l][j], "act", at)}</tr>`,
    );
  }
  const listed = explain.activations[l - 1];
  const ceNote =
    l === explain.weights.length && explain.loss_name === "cross_entropy"
      ? `<p>With cross-entropy the output layer applies ${escapeHtml(f)}, whatever activation is listed for it (${escapeHtml(listed)} here).</p>`
      : "";
  const noBias = explain.bias === false;
  const x = explain.x.map((v) => fmt(v, 4)).join(", ");
  return `<h3>Forward, layer ${l}: each neuron sums its inputs, then applies ${escapeHtml(f)}</h3>${ceNote}
    <p class="formula">net⁽${l}⁾ = a⁽${l - 1}⁾ · W⁽${l - 1}⁾${noBias ? "" : ` + b⁽${l - 1}⁾`} &nbsp;&nbsp; a⁽${l}⁾ = ${escapeHtml(f)}(net⁽${l}⁾)${noBias ? " &nbsp; (no biases)" : ""}</p>
    <p>Following ${sampleWords(explain)}: x = (${x}). The diagram writes net and a under each neuron of layer ${l}.</p>
    ${table(["neuron", ...(expand ? [noBias ? "Σᵢ aᵢ·wᵢⱼ" : "Σᵢ aᵢ·wᵢⱼ + bⱼ"] : []), "net", `a = ${escapeHtml(f)}(net)`], rows)}${more(W.cols)}`;
}

function lossHtml(explain, m) {
  const L = m.weights.length;
  const yhat = m.activation[L];
  const rows = Array.from(
    yhat.slice(0, MAX_ROWS),
    (v, k) => `<tr><td>${k}</td>${cell(v)}${cell(explain.y[k])}${cell(v - explain.y[k])}</tr>`,
  );
  const formula =
    explain.loss_name === "mse"
      ? "L = (1/N) Σₙ ½ ‖ŷₙ − yₙ‖²"
      : yhat.length === 1
        ? "L = −(1/N) Σₙ [yₙ log ŷₙ + (1 − yₙ) log(1 − ŷₙ)]"
        : "L = −(1/N) Σₙ Σₖ yₙₖ log ŷₙₖ";
  return `<h3>Loss: how far the outputs are from the targets</h3>
    <p class="formula">${formula}</p>
    <p>Over the batch of N = ${explain.batch_size} samples the loss is <strong class="mono" data-testid="explain-loss">${fmt(explain.loss, 6)}</strong>.
      For ${sampleWords(explain)}:</p>
    ${table(["output", "ŷ", "y", "ŷ − y"], rows)}`;
}

function backwardHtml(explain, l, m) {
  const L = m.weights.length;
  const f = fname(explain, l);
  const terms = updateTerms(explain.variant);
  const noDerivative = terms.shortcut;
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
    const at = { l, j };
    const fprimeCell = unused ? "<td>–</td>" : cell(m.derivative[l - 1][j], "dact", at);
    rows.push(
      `<tr><td>${j}</td>${cell(incoming)}${fprimeCell}${cell(m.sampleDeltas[l - 1][j], "delta", at)}${cell(m.deltas[l - 1][j], "delta-sum", at)}</tr>`,
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
  const sumHead = explain.bias === false || noDerivative ? "Σₙ δ" : "Σₙ δ = ∂L/∂b";
  let sumWords = "which is ∂L/∂b";
  if (noDerivative) sumWords = "the direction the biases move along, without f′(net)";
  else if (explain.bias === false) sumWords = "which would be ∂L/∂b if the network had biases (it has none)";
  const shortcut = noDerivative
    ? "<p>Variant without f′(net): the factor f′(net) is left out on purpose, so this δ is not the derivative of L by net, and the direction it leads to is not the gradient of L.</p>"
    : "";
  const from = l === L ? "from the loss" : `from layer ${l + 1}, back along the highlighted weights`;
  return `<h3>Backward, layer ${l}: the error flows back ${from}</h3>
    <p class="formula">${formula}</p>${shortcut}
    <p>For ${sampleWords(explain)}; the last column sums δ over all ${explain.batch_size} samples of the batch, ${sumWords}.</p>
    ${table(["neuron", first, noDerivative ? "f′(net): left out" : "f′(net)", "δ (this sample)", sumHead], rows)}${more(n)}
    ${edgeProductsHtml(l, m, terms)}`;
}

// With δ of layer l known, every weight into layer l gets this sample's share aᵢ·δⱼ of its
// batch sum (∂L/∂w, or g under the shortcut).
function edgeProductsHtml(l, m, terms) {
  const W = m.weights[l - 1];
  const a = m.activation[l - 1];
  const d = m.sampleDeltas[l - 1];
  const G = m.gradients[l - 1];
  const rows = [];
  for (let k = 0; k < Math.min(W.data.length, MAX_ROWS); k++) {
    const i = Math.floor(k / W.cols);
    const j = k % W.cols;
    const at = { l: l - 1, i, j };
    rows.push(
      `<tr><td>${i} → ${j}</td>${cell(a[i], "a", at)}${cell(d[j], "", at)}${cell(a[i] * d[j], "product", at)}${cell(G.data[k], "gradient", at)}</tr>`,
    );
  }
  return `<h4>On each weight into layer ${l}: this sample's a·δ</h4>
    ${table(["i → j", `aᵢ⁽${l - 1}⁾`, `δⱼ⁽${l}⁾`, "aᵢ·δⱼ", `Σₙ aᵢ·δⱼ = ${terms.dW}`], rows)}${more(W.data.length)}`;
}

function updateHtml(explain, m) {
  const lr = explain.learning_rate;
  const mu = explain.momentum || 0;
  const terms = updateTerms(explain.variant);
  const penalized = Boolean(explain.regularization && explain.regularization_gradients);
  // With momentum the step is −α·v (v carries earlier gradients), so show the real change.
  const change = mu ? "Δw = new − old" : `Δw = −α·${terms.dW}`;
  const parts = m.weights.map((W, l) => {
    const rows = [];
    const G = m.gradients[l];
    const N = m.newWeights[l];
    for (let k = 0; k < Math.min(W.data.length, MAX_ROWS); k++) {
      const i = Math.floor(k / W.cols);
      const j = k % W.cols;
      const at = { l, i, j };
      const step = mu ? N.data[k] - W.data[k] : -lr * G.data[k];
      const digits = digitsToDiffer(W.data[k], N.data[k]);
      // With momentum, the engine's velocities: μ·v of the earlier steps, and the v it moves by.
      const velocity = mu ? `${cell(mu * explain.previous_velocity[l][i][j])}${cell(explain.velocity[l][i][j])}` : "";
      const penalty = penalized ? cell(explain.regularization_gradients[l][i][j], "penalty", at) : "";
      rows.push(
        `<tr data-l="${l}" data-i="${i}" data-j="${j}"><td>${i} → ${j}</td>${cell(W.data[k], "w", at, digits)}${cell(G.data[k], "gradient", at)}${penalty}${velocity}${cell(step, "change", at)}${cell(N.data[k], "w-after", at, digits).replace("<td", `<td data-w-after="${N.data[k]}"`)}</tr>`,
      );
    }
    const velocityHead = mu ? ["μ·v (earlier steps)", `v = μ·v + ${terms.dW}`] : [];
    const penaltyHead = penalized ? [`of which ${penaltyTerm(explain.regularization)}`] : [];
    return `<h4>W⁽${l}⁾: layer ${l} → layer ${l + 1}</h4>${table(["i → j", "w", terms.dW, ...penaltyHead, ...velocityHead, change, "new w"], rows)}${more(W.data.length)}`;
  });
  const rule = mu
    ? `v ← ${fmt(mu, 4)}·v + ${terms.dW === "g" ? "g" : "∂L/∂W"} &nbsp;&nbsp; W ← W − α · v &nbsp;&nbsp; (α = ${fmt(lr, 6)}, momentum μ = ${fmt(mu, 4)})`
    : `${terms.rule}${explain.bias === false ? "" : " &nbsp;&nbsp; b ← b − α · Σₙ δ"} &nbsp;&nbsp; (α = ${fmt(lr, 6)})`;
  const head = terms.shortcut
    ? "Update: every weight steps along −α·g, which is not the gradient of L"
    : "Update: every weight steps against its gradient";
  return `<h3>${head}</h3>
    <p class="formula">${rule}</p>
    ${penalized ? penaltyHtml(explain) : ""}
    <p data-pending>The diagram shows the new weights; the server has not taken this step yet. “Apply this update ✓” makes it take it, unless the run has moved on since this update was explained.</p>
    ${parts.join("")}${explain.bias === false ? "" : biasesHtml(explain, m, terms)}`;
}

// The regularizer's share of each weight's gradient: λ·w for L2, λ·sign(w) for L1.
function penaltyTerm({ kind }) {
  return kind === "l2" ? "λ·w" : "λ·sign(w)";
}

function penaltyHtml(explain) {
  const { kind, rate } = explain.regularization;
  const loss = kind === "l2" ? "(λ/2)·Σ w²" : "λ·Σ |w|";
  return `<p data-testid="explain-penalty">With ${kind.toUpperCase()} regularization (λ = ${fmt(rate, 6)}) the loss adds ${loss}
    (${fmt(explain.regularization_loss, 6)} now) over the weights, not the biases, so each weight's gradient gains
    ${penaltyTerm(explain.regularization)}: the column “of which” shows that share.</p>`;
}

function biasesHtml(explain, m, terms) {
  const lr = explain.learning_rate;
  const rows = [];
  const count = m.biases.reduce((n, b) => n + b.length, 0);
  m.biases.forEach((b, l) => {
    const after = m.newBiases[l];
    for (let j = 0; j < b.length && rows.length < MAX_ROWS; j++) {
      const at = { l, j };
      const digits = digitsToDiffer(b[j], after[j]);
      const step = explain.momentum ? after[j] - b[j] : -lr * m.deltas[l][j];
      rows.push(
        `<tr><td>b⁽${l}⁾${j}</td>${cell(b[j], "b", at, digits)}${cell(m.deltas[l][j], "delta-sum", at)}${cell(step, "b-change", at)}${cell(after[j], "b-after", at, digits)}</tr>`,
      );
    }
  });
  const change = explain.momentum ? "Δb = new − old" : "Δb = −α·Σₙ δ";
  return `<h4>Biases: b⁽l⁾ feeds layer l + 1</h4>${table(["bias", "b", terms.db, change, "new b"], rows)}${more(count)}`;
}
