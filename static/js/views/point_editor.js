// Draw your own data: click the square to add a point of the chosen class, drag across points to
// erase them. The points become a CSV data set (x1, x2, label) uploaded when the run is created.
import { FONT, fitCanvas, GRID, MUTED } from "../lib/canvas.js";
import { NEG, POS } from "../lib/colors.js";

const ERASE_RADIUS = 0.06; // in data units; the square is [-1, 1]²
const DRAG_START = 4; // CSS pixels the pointer must move before a press counts as a drag
const COLORS = [NEG, POS].map(([r, g, b]) => `rgb(${r},${g},${b})`);

export class PointEditor {
  constructor(canvas, { classSelect, clearButton, count }) {
    this.canvas = canvas;
    this.classSelect = classSelect;
    this.count = count;
    this.points = []; // {x, y, label}
    this.press = null;
    canvas.addEventListener("pointerdown", (e) => this.down(e));
    canvas.addEventListener("pointermove", (e) => this.move(e));
    canvas.addEventListener("pointerup", (e) => this.up(e));
    clearButton.addEventListener("click", () => this.set([]));
    new ResizeObserver(() => this.draw()).observe(canvas);
  }

  set(points) {
    this.points = points;
    this.draw();
  }

  toData(e) {
    const rect = this.canvas.getBoundingClientRect();
    return {
      x: ((e.clientX - rect.left) / rect.width) * 2 - 1,
      y: 1 - ((e.clientY - rect.top) / rect.height) * 2,
    };
  }

  down(e) {
    this.press = { clientX: e.clientX, clientY: e.clientY, dragging: false };
    this.canvas.setPointerCapture?.(e.pointerId);
  }

  move(e) {
    if (!this.press) return;
    const moved = Math.hypot(e.clientX - this.press.clientX, e.clientY - this.press.clientY);
    if (moved >= DRAG_START) this.press.dragging = true;
    if (this.press.dragging) this.erase(this.toData(e));
  }

  up(e) {
    if (this.press && !this.press.dragging) {
      const { x, y } = this.toData(e);
      this.points.push({ x, y, label: Number(this.classSelect.value) });
      this.draw();
    }
    this.press = null;
  }

  erase({ x, y }) {
    const kept = this.points.filter((p) => Math.hypot(p.x - x, p.y - y) > ERASE_RADIUS);
    if (kept.length !== this.points.length) this.set(kept);
  }

  toCsv() {
    const rows = this.points.map((p) => `${p.x.toFixed(4)},${p.y.toFixed(4)},${p.label}`);
    return `x1,x2,label\n${rows.join("\n")}\n`;
  }

  draw() {
    const { ctx, width, height } = fitCanvas(this.canvas);
    ctx.strokeStyle = GRID;
    ctx.beginPath();
    ctx.moveTo(width / 2, 0);
    ctx.lineTo(width / 2, height);
    ctx.moveTo(0, height / 2);
    ctx.lineTo(width, height / 2);
    ctx.stroke();
    for (const p of this.points) {
      ctx.fillStyle = COLORS[p.label];
      ctx.beginPath();
      ctx.arc(((p.x + 1) / 2) * width, ((1 - p.y) / 2) * height, 4.5, 0, 2 * Math.PI);
      ctx.fill();
    }
    if (!this.points.length) {
      ctx.fillStyle = MUTED;
      ctx.font = FONT;
      ctx.textAlign = "center";
      ctx.fillText("Click to add points; drag across points to erase", width / 2, height / 2 - 8);
    }
    const counts = [0, 1].map((label) => this.points.filter((p) => p.label === label).length);
    this.count.textContent = `${this.points.length} points (${counts[0]} orange, ${counts[1]} blue)`;
  }
}
