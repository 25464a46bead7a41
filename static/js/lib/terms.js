// What the numbers of an update are called. Under the standard variant the backward pass gives
// the gradient of L; under `no_activation_derivative` (the article's shortcut) it leaves f′(net)
// out, so its numbers are an update direction, not ∂L/∂w or ∂L/∂b, and no label may say they are.
export const SHORTCUT = "no_activation_derivative";

export function updateTerms(variant) {
  if (variant === SHORTCUT) {
    return {
      shortcut: true,
      dW: "g",
      db: "Σₙ δ",
      delta: "δ without f′(net)",
      norm: "‖g‖ per layer: the size of the update direction (not the gradient: f′(net) left out)",
      rule: "W ← W − α · g",
    };
  }
  return {
    shortcut: false,
    dW: "∂L/∂w",
    db: "Σₙ δ = ∂L/∂b",
    delta: "δ = ∂L/∂net",
    norm: "‖∂L/∂W‖ per layer: the size of each layer's gradient",
    rule: "W ← W − α · ∂L/∂W",
  };
}

// Said next to the loss curve of a run that takes the shortcut (run page and compare page).
export const SHORTCUT_SENTENCE =
  "Without f′(net) the backward pass does not compute the gradient of L: each update follows " +
  "another direction, one that need not lead downhill, so the loss can stop falling or rise.";
