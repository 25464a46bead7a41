// One update as a list of phases: forward layer by layer, the loss, backward layer by layer, the
// update. Each phase says what the network view shows; explain_text.js writes its numbers.
// A phase's id is what the network view's data-phase says while it is drawn.
export function buildPhases(explain) {
  const L = explain.weights.length;
  const phases = [];
  for (let l = 1; l <= L; l++) phases.push({ kind: "forward", layer: l, id: `forward-${l}`, title: `Forward ${l}` });
  phases.push({ kind: "loss", layer: L, id: "loss", title: "Loss" });
  for (let l = L; l >= 1; l--) phases.push({ kind: "backward", layer: l, id: `backward-${l}`, title: `Backward ${l}` });
  phases.push({ kind: "update", layer: null, id: "update", title: "Update" });
  return phases;
}

// What the network view shows during a phase: only what has been computed so far.
export function overlayFor(explain, phase, m) {
  const L = m.weights.length;
  const known = (l) => phase.kind !== "forward" || l <= phase.layer;
  const act = m.activation.map((a, l) => (known(l) ? a : null));
  const net = [null, ...m.net.map((v, k) => (known(k + 1) ? v : null))];
  const dact = [null, ...m.derivative.map((v, k) => (known(k + 1) ? v : null))];
  let delta = null;
  if (phase.kind === "backward") delta = [null, ...m.sampleDeltas.map((d, k) => (k + 1 >= phase.layer ? d : null))];
  if (phase.kind === "update") delta = [null, ...m.sampleDeltas];
  const edgeLayer = {
    forward: phase.layer - 1,
    loss: -1,
    backward: phase.layer < L ? phase.layer : -1,
    update: null,
  }[phase.kind];
  return {
    id: phase.id,
    weights: phase.kind === "update" ? m.newWeights : m.weights,
    act,
    net,
    dact,
    delta,
    gradients: phase.kind === "backward" || phase.kind === "update" ? m.gradients : null,
    batchDeltas: phase.kind === "backward" || phase.kind === "update" ? m.deltas : null,
    activeLayer: phase.kind === "update" ? null : phase.layer,
    edgeLayer,
    // δ of layer l travels back from layer l + 1 (from the loss, for the output layer).
    pulse: phase.kind === "backward" ? { to: phase.layer } : null,
    show: phase.kind === "backward" ? "delta" : "act",
    learningRate: explain.learning_rate,
    momentum: explain.momentum || 0,
    variant: explain.variant,
    phase: phase.kind,
    oldWeights: m.weights,
    newWeights: m.newWeights,
    step: explain.step,
    sample: explain.sample,
    batchSize: explain.batch_size,
  };
}
