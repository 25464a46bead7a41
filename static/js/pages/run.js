// The run page: wires the REST answers and the stream's frames into the views. Views never talk to
// each other; this module decides who gets what.
import { ApiError, get } from "../lib/api.js";
import { featureExpander, inputNames } from "../lib/features.js";
import { fmtExact, fmtInt } from "../lib/format.js";
import { layerActivations } from "../lib/forward.js";
import { matricesFrom, vectorsFrom } from "../lib/matrix.js";
import { RunStream } from "../lib/stream.js";
import { SHORTCUT_SENTENCE, updateTerms } from "../lib/terms.js";
import { Controls } from "../views/controls.js";
import { DatasetView } from "../views/data_view.js";
import { Downloads } from "../views/downloads.js";
import { Explain } from "../views/explain.js";
import { GradientChart } from "../views/gradient_chart.js";
import { HistoryScrubber } from "../views/history_scrubber.js";
import { LossChart } from "../views/loss_chart.js";
import { NetworkView } from "../views/network_view.js";
import { NeuronMaps } from "../views/neuron_maps.js";
import { RunTitle } from "../views/run_title.js";
import { ScoresView } from "../views/scores.js";
import { WeightEditor } from "../views/weight_editor.js";
import { WeightImages } from "../views/weight_images.js";

// Past this many weights the stream sends float32 bytes instead of JSON (decode ~50× cheaper).
const BINARY_ABOVE = 20_000;
const SAMPLES_LISTED = 200; // rows offered by the "Follow sample" picker

class RunPage {
  constructor(root) {
    this.root = root;
    this.runId = root.dataset.runId;
    this.$ = (id) => root.querySelector(`#${id}`);
    this.step = -1;
    this.statusEpoch = 0; // counts status frames: a REST answer must not undo a newer one
    this.settingsEpoch = 0; // counts settings frames, likewise for α and the speed
    this.live = null; // newest {weights, biases, deltas, gradients} from the stream
    this.latest = null; // newest {step, loss, testLoss} shown by the readouts when live
    this.viewing = null; // the past step the history slider shows, or null when live
    this.network = new NetworkView(
      this.$("network-canvas"),
      this.$("tooltip"),
      this.$("net-note"),
      this.$("scale-legend"),
    );
    this.loss = new LossChart(this.$("loss-canvas"));
    this.gradients = new GradientChart(this.$("gradient-canvas"), this.$("gradient-legend"));
    this.data = new DatasetView(this.$("data-canvas"), this.$("data-note"));
    this.scores = new ScoresView(root, this.runId);
    this.downloads = new Downloads(this.$("downloads"), this.runId, this.$("loss-canvas"));
    const onRun = (run, epoch) => this.applyRun(run, epoch);
    const epoch = () => ({ status: this.statusEpoch, settings: this.settingsEpoch });
    this.controls = new Controls(root, this.runId, { onRun, epoch });
    this.history = new HistoryScrubber(root, this.runId, {
      onView: (step) => this.view(step),
      onSnapshot: (snap) => this.showSnapshot(snap),
      onLive: () => this.backToLive(),
    });
    this.explain = new Explain(root, this.runId, {
      network: this.network,
      onRun,
      epoch,
      isRunning: () => this.run && this.run.status === "running",
      status: () => this.run?.status,
      sample: () => this.followedSample(),
      onOpen: (open) => this.explaining(open),
    });
    this.weightEditor = new WeightEditor(root, this.runId, {
      canvas: this.$("network-canvas"),
      inspector: this.network.inspector,
      canEdit: () => this.run && this.run.status === "paused" && !this.run.busy && this.viewing === null,
      onEdited: (answer) => this.edited(answer),
    });
    this.title = new RunTitle(root, this.runId);
    this.maps = new NeuronMaps(this.$("network-canvas"));
    this.$("neuron-maps").addEventListener("change", (e) => {
      this.maps.setEnabled(e.target.checked);
      this.network.setNeuronMaps(this.maps);
    });
    this.$("show-test").addEventListener("change", (e) => this.data.setOptions({ showTest: e.target.checked }));
    this.$("discretise").addEventListener("change", (e) => this.data.setOptions({ discrete: e.target.checked }));
    this.$("log-toggle").addEventListener("change", (e) => this.loss.setLog(e.target.checked));
    this.$("sample-select").addEventListener("change", (e) => this.follow(e.target.value));
  }

  async start() {
    try {
      this.run = await get(`/api/runs/${this.runId}`);
    } catch (err) {
      this.missing();
      this.notice(
        err instanceof ApiError && err.status === 404
          ? `There is no run ${this.runId}. It may have been deleted.`
          : `Could not load the run: ${err.message}`,
      );
      return;
    }
    this.configure(this.run.config);
    this.applyRun(this.run);
    this.loadDataset();
    this.scores.refresh();
    const weights = this.layers.slice(1).reduce((n, c, l) => n + c * this.layers[l], 0);
    this.stream = new RunStream(this.runId, {
      encoding: weights > BINARY_ABOVE ? "binary" : "json",
      onFrame: (frame) => this.onFrame(frame),
      onConnection: (state) => this.connection(state),
    });
    this.stream.open();
  }

  // No run to drive (deleted, or the server could not be reached): every control off, and the
  // badges say so rather than "connecting…".
  missing() {
    this.run = { status: "missing" };
    const badge = this.$("run-status");
    badge.textContent = "missing";
    badge.dataset.status = "missing";
    this.controls.update({ status: "missing" });
    for (const el of this.root.querySelectorAll(
      "#controls button, #controls input, #controls select, #rename-button, #reset-button",
    ))
      el.disabled = true;
    const conn = this.$("conn-status");
    conn.dataset.state = "none";
    conn.textContent = "not connected";
  }

  configure(config) {
    this.title.show(config.name);
    // A regularized run minimises data loss + penalty: the chart shows both.
    this.$("total-note").hidden = !config.regularization;
    this.$("data-loss-legend").hidden = !config.regularization;
    this.controls.setConfig(config);
    if (config.dataset.kind === "digits") this.pixels = new WeightImages(this.$("weight-images"));
    this.layers = config.layers;
    this.activations = layerActivations(config);
    this.network.setModel(this.layers, this.activations);
    this.network.setTraining({
      momentum: config.momentum || 0,
      batchSize: config.batch_size ?? null,
      perSampleHint: "Step and explain",
      bias: config.bias !== false,
      variant: config.variant,
    });
    this.gradients.setModel(this.layers.length - 1, config.variant);
    this.inputNames = inputNames(config);
    this.data.setModel(this.layers, this.activations, this.inputNames);
    if (this.inputNames) this.network.setInputNames(this.inputNames);
    const shortcut = this.$("shortcut-note");
    shortcut.hidden = !updateTerms(config.variant).shortcut;
    shortcut.textContent = SHORTCUT_SENTENCE;
    const ds = config.dataset || {};
    const batch =
      config.batch_size === null || config.batch_size === undefined ? "full batch" : `batch ${config.batch_size}`;
    let summary = `${this.layers.join("-")} · ${this.activations.join(", ")} · ${config.loss} · ${batch} · ${config.variant} · ${ds.kind || "?"} data`;
    if (config.loss === "cross_entropy")
      summary += ` · with cross-entropy the output layer applies ${this.layers.at(-1) === 1 ? "sigmoid" : "softmax"}`;
    this.$("run-summary").textContent = summary;
  }

  async loadDataset() {
    try {
      const data = await get(`/api/runs/${this.runId}/dataset`);
      this.data.setData(data);
      this.showNeuronMaps(data);
      this.network.setSamples(data.x_train);
      const select = this.$("sample-select");
      const shown = Math.min(data.x_train.length, SAMPLES_LISTED);
      for (let k = 0; k < shown; k++) select.add(new Option(`sample ${k}`, String(k)));
    } catch (err) {
      this.$("data-note").textContent = `Could not load the data set: ${err.message}`;
    }
  }

  // Pictures of each neuron over the input plane, for 2-D data (the same square the data view shows).
  showNeuronMaps(data) {
    if ((data.x_train_raw || data.x_train)[0]?.length !== 2) return;
    this.maps.setModel(this.layers, this.activations, this.data.extent, featureExpander(this.inputNames, 2));
    this.$("neuron-maps-toggle").hidden = false;
    this.network.setNeuronMaps(this.maps);
  }

  // One picker for the followed sample: the live neurons and the explained update both use it.
  followedSample() {
    const select = this.$("sample-select");
    if (select.value === "mean") {
      select.value = "0"; // an update is explained through one sample
      this.network.setSample(0);
    }
    return Number(select.value);
  }

  follow(value) {
    const sample = value === "mean" ? "mean" : Number(value);
    this.network.setSample(sample);
    if (sample !== "mean") this.explain.follow(sample);
  }

  explaining(open) {
    this.root.classList.toggle("is-explaining", open);
    this.$("explain-panel").hidden = !open;
    this.$("explain-bar").hidden = !open;
    if (open) this.history.goLive();
  }

  onFrame(frame) {
    if (frame.type === "state") return this.onState(frame);
    if (frame.type === "update") return this.onUpdate(frame);
    if (frame.type === "status") {
      this.statusEpoch++;
      return this.applyRun({ status: frame.status, message: frame.message });
    }
    // A weight set by hand (here, in another tab or by a script): show the run's weights now.
    if (frame.type === "edit") return this.refreshWeights();
    // A PATCH from this tab, another tab or a script: α field, speed and hover follow.
    if (frame.type === "settings") {
      this.settingsEpoch++;
      return this.applyRun({ learning_rate: frame.learning_rate, speed: frame.speed });
    }
  }

  onState(frame) {
    this.step = -1;
    this.applyRun(frame.run);
    this.loss.reset(frame.history);
    this.setLive({
      step: frame.step ?? frame.run.step,
      weights: matricesFrom(frame.weights),
      biases: vectorsFrom(frame.biases),
    });
  }

  // An update frame's deltas and gradients are those of update `step`, made with the frame's own
  // learning_rate at the weights of the frame before (kept when it was update step − 1).
  onUpdate(frame) {
    this.showStep(frame.step, frame.loss, frame.test_loss);
    this.loss.update(frame);
    const before = this.live && this.live.step === frame.step - 1 ? this.live.weights : null;
    const gradients = matricesFrom(frame.gradients);
    this.gradients.update({ step: frame.step, gradients });
    this.setLive({
      step: frame.step,
      weights: matricesFrom(frame.weights),
      biases: vectorsFrom(frame.biases),
      deltas: vectorsFrom(frame.deltas),
      gradients,
      updateRate: frame.learning_rate ?? null,
      previousWeights: before,
    });
  }

  edited(answer) {
    this.setLive({
      ...this.live,
      step: answer.step,
      weights: matricesFrom(answer.weights),
      biases: vectorsFrom(answer.biases),
    });
  }

  async refreshWeights() {
    this.edited(await get(`/api/runs/${this.runId}/weights`));
  }

  setLive(state) {
    this.live = state;
    if (this.viewing !== null) return;
    this.network.update(state);
    this.data.update(state);
    this.pixels?.update(state);
  }

  // The history slider moved to `step`: its loss and test loss (every step's are in the chart)
  // in the readouts and a mark on both charts, at once; its weights follow (showSnapshot).
  view(step) {
    this.viewing = step;
    this.root.classList.add("is-viewing");
    this.loss.setMarker(step);
    this.gradients.setMarker(step);
    this.showReadouts(step, this.loss.train.valueAt(step), this.loss.test.valueAt(step));
  }

  showSnapshot(snap) {
    if (this.viewing === null) return;
    const { step, loss, testLoss } = snap.losses;
    if (step === this.viewing) this.showReadouts(step, loss, testLoss);
    this.network.update(snap);
    this.data.update(snap);
    this.pixels?.update(snap);
  }

  backToLive() {
    this.viewing = null;
    this.root.classList.remove("is-viewing");
    this.loss.setMarker(null);
    this.gradients.setMarker(null);
    if (this.latest) this.showReadouts(this.latest.step, this.latest.loss, this.latest.testLoss);
    if (this.live) this.setLive(this.live);
  }

  // `epoch`: the frame counts when a REST request was sent. If a status frame came in meanwhile
  // (say the run diverged right after "resume"), the stream's status is newer than the answer's;
  // so are α and the speed after a settings frame (another tab's PATCH).
  applyRun(answer, epoch) {
    const run = { ...answer };
    if (epoch !== undefined && epoch.status !== this.statusEpoch) delete run.status;
    if (epoch !== undefined && epoch.settings !== this.settingsEpoch) {
      delete run.learning_rate;
      delete run.speed;
    }
    this.run = { ...this.run, ...run };
    const badge = this.$("run-status");
    badge.textContent = this.run.status;
    badge.dataset.status = this.run.status;
    this.controls.update(run);
    if (run.learning_rate !== undefined) this.network.setLearningRate(run.learning_rate);
    if (run.loss !== undefined) this.showStep(run.step, run.loss, run.test_loss);
    this.explain.noteRun({ step: this.step, learning_rate: this.run.learning_rate });
    if (["diverged", "interrupted", "finished", "stopped"].includes(this.run.status) && this.run.message)
      this.notice(this.run.message);
    else if (this.run.status === "diverged")
      this.notice("The run diverged: the numbers overflowed. Try a smaller learning rate.");
  }

  // Newest step wins: a REST answer and a stream frame can arrive in either order.
  showStep(step, loss, testLoss) {
    if (step === undefined || step < this.step) return;
    this.step = step;
    const same = this.latest?.step === step;
    this.latest = { step, loss, testLoss: testLoss !== undefined ? testLoss : same ? this.latest.testLoss : null };
    if (this.viewing === null) this.showReadouts(step, loss, this.latest.testLoss);
    this.history.update(step);
    if (this.explain) this.explain.noteRun({ step, learning_rate: this.run.learning_rate });
  }

  showReadouts(step, loss, testLoss) {
    this.$("step-count").textContent = fmtInt(step);
    for (const [id, value] of [
      ["loss-value", loss],
      ["test-loss-value", testLoss],
    ]) {
      const el = this.$(id);
      el.textContent = fmtExact(value);
      el.dataset.value = value === null || value === undefined ? "" : String(value);
    }
  }

  connection(state) {
    const badge = this.$("conn-status");
    badge.dataset.state = state;
    badge.textContent =
      { open: "live", connecting: "connecting…", closed: "reconnecting…", refused: "stream refused" }[state] || state;
    if (state === "refused") this.missing();
    if (state === "refused")
      this.notice("The server refused the live stream: the run may have been deleted. Reload to try again.");
  }

  notice(text) {
    const el = this.$("run-notice");
    el.textContent = text;
    el.hidden = !text;
  }
}

const root = document.getElementById("run-root");
if (root) new RunPage(root).start();
