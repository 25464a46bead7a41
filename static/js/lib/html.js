// Text spliced into markup (innerHTML, insertAdjacentHTML) is escaped, so a run id, a status, an
// activation name or a server message is shown as written and can never open a tag or end an
// attribute.
const ENTITIES = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" };

export function escapeHtml(value) {
  return String(value).replace(/[&<>"']/g, (c) => ENTITIES[c]);
}
