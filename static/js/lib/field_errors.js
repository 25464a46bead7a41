// One wording for a refused field, whichever page shows it and whether the page or the server
// caught it: the form and the run page both put these messages beside the field they name.

// Fields whose rule is said whole, so a check in the page and the server's refusal read the same.
const RULES = {
  learning_rate: "Must be a number above 0 and at most 10¹².",
  speed: "Must be a number of updates a second above 0, or “as fast as it goes”.",
};

// Pydantic's message kinds, in plain words; `n` is the number the message names.
const BY_TYPE = {
  greater_than: (n) => `Must be above ${n}.`,
  greater_than_equal: (n) => `Must be at least ${n}.`,
  less_than: (n) => `Must be below ${n}.`,
  less_than_equal: (n) => `Must be at most ${n}.`,
  finite_number: () => "Must be a finite number.",
  float_type: () => "Must be a number.",
  float_parsing: () => "Must be a number.",
  int_type: () => "Must be a whole number.",
  int_parsing: () => "Must be a whole number.",
  int_from_float: () => "Must be a whole number.",
  string_too_long: (n) => `Must be at most ${n} characters.`,
  string_too_short: () => "Must not be empty.",
  too_short: (n) => `Needs at least ${n} items.`,
  too_long: (n) => `Takes at most ${n} items.`,
  missing: () => "Is required.",
  literal_error: () => "Is not one of the choices.",
};

const SUPERSCRIPT = "⁰¹²³⁴⁵⁶⁷⁸⁹";

// 1000000000000 -> "10¹²"; other numbers as written, with thousands separators.
function showNumber(text) {
  const value = Number(text);
  const power = Math.log10(Math.abs(value));
  if (value >= 1e6 && Number.isInteger(power))
    return `10${[...String(power)].map((d) => SUPERSCRIPT[Number(d)]).join("")}`;
  return Number.isFinite(value) && Math.abs(value) >= 1000 ? value.toLocaleString("en-US") : text;
}

// {path, msg, type} (one item of a 422's detail) -> the sentence shown beside the field.
export function fieldMessage({ path, msg, type }) {
  const field = path.split(".").at(-1);
  if (RULES[field] && type !== "value_error") return RULES[field];
  const say = BY_TYPE[type];
  // The server's own messages are written for people already: shown as they are, less the field.
  if (!say) return msg.replace(/^Value error, /, "").replace(new RegExp(`^${escapeRegExp(path)}: `), "") || msg;
  const number = (msg.match(/-?\d[\d.e+]*/) || [""])[0];
  return say(showNumber(number));
}

// The page's own check of a learning rate typed in: the same message as the server's refusal.
export function learningRateError(raw) {
  const value = Number(raw);
  return String(raw).trim() !== "" && Number.isFinite(value) && value > 0 && value <= 1e12 ? null : RULES.learning_rate;
}

function escapeRegExp(text) {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}
