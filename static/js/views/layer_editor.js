// Layers as columns: neuron count with − / + buttons and, for every non-input layer, its
// activation. Input and output sizes follow the data set but stay editable (the API checks them).
const ACTIVATIONS = ["sigmoid", "tanh", "relu", "linear"];
const MAX_NEURONS = 64;

export class LayerEditor {
  constructor(container) {
    this.container = container;
    this.layers = [2, 4, 1];
    this.activation = ["sigmoid", "sigmoid"];
  }

  set(layers, activation) {
    this.layers = layers.slice();
    this.activation = Array.isArray(activation) ? activation.slice() : layers.slice(1).map(() => activation);
    this.render();
  }

  value() {
    return { layers: this.layers.slice(), activation: this.activation.slice() };
  }

  setEnds(inputs, outputs) {
    this.layers[0] = inputs;
    this.layers[this.layers.length - 1] = outputs;
    this.render();
  }

  addHidden() {
    const last = this.layers.length - 1;
    this.layers.splice(last, 0, this.layers[last - 1] > 1 && last > 1 ? this.layers[last - 1] : 4);
    this.activation.splice(last - 1, 0, this.activation[Math.max(0, last - 2)] || "tanh");
    this.render();
  }

  removeHidden() {
    if (this.layers.length <= 2) return;
    const last = this.layers.length - 1;
    this.layers.splice(last - 1, 1);
    this.activation.splice(last - 2, 1);
    this.render();
  }

  render() {
    const last = this.layers.length - 1;
    this.container.replaceChildren(...this.layers.map((count, l) => this.column(l, count, last)));
  }

  column(l, count, last) {
    const col = document.createElement("div");
    col.className = "layer";
    const name = l === 0 ? "Input" : l === last ? "Output" : `Hidden ${l}`;
    const id = `layer-${l}`;
    col.innerHTML = `<label class="layer-name" for="${id}">${name}</label>
      <div class="stepper"><button type="button" data-d="-1" aria-label="Fewer neurons in ${name.toLowerCase()} layer">−</button>
      <input id="${id}" type="number" min="1" max="${MAX_NEURONS}" step="1" value="${count}" data-field="layers.${l}">
      <button type="button" data-d="1" aria-label="More neurons in ${name.toLowerCase()} layer">+</button></div>
      <p class="field-error" data-error-for="layers.${l}"></p>`;
    const input = col.querySelector("input");
    input.addEventListener("change", () => (this.layers[l] = Math.max(1, Math.round(Number(input.value) || 1))));
    for (const b of col.querySelectorAll("button[data-d]")) {
      b.addEventListener("click", () => {
        this.layers[l] = Math.max(1, Math.min(MAX_NEURONS, this.layers[l] + Number(b.dataset.d)));
        input.value = String(this.layers[l]);
      });
    }
    if (l > 0) col.append(this.activationSelect(l, name));
    return col;
  }

  activationSelect(l, name) {
    const wrap = document.createElement("div");
    const id = `act-${l}`;
    wrap.innerHTML = `<label class="sr-only" for="${id}">Activation of ${name.toLowerCase()} layer</label>
      <select id="${id}" data-field="activation.${l - 1}">${ACTIVATIONS.map((a) => `<option${a === this.activation[l - 1] ? " selected" : ""}>${a}</option>`).join("")}</select>
      <p class="field-error" data-error-for="activation.${l - 1}"></p>`;
    wrap.querySelector("select").addEventListener("change", (e) => (this.activation[l - 1] = e.target.value));
    return wrap;
  }
}
