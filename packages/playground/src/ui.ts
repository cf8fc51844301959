/**
 * @file Small DOM helpers shared by the views: element creation, number formatting, messages.
 */

/** `el("div", { class: "x" }, child, "text")`: an element with attributes and children. */
export function el<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attributes: Record<string, string> = {},
  ...children: (Node | string)[]
): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) node.setAttribute(name, value);
  node.append(...children);
  return node;
}

/** A number with `digits` significant digits and a true minus sign. */
export function num(x: number, digits = 4): string {
  if (!Number.isFinite(x)) return String(x);
  const text = Math.abs(x) >= 1e-4 || x === 0 ? String(Number(x.toPrecision(digits))) : x.toExponential(digits - 1);
  return text.replace("-", "−");
}

/** A number with a fixed count of decimals and a true minus sign. */
export function fixed(x: number, decimals: number): string {
  return x.toFixed(decimals).replace("-", "−");
}

/** Show `message` in `box` (or hide the box when it is null). */
export function showMessage(box: HTMLElement, message: string | null): void {
  box.hidden = message === null;
  box.textContent = message ?? "";
}

/** A labelled control in a form row. */
export function field(label: string, control: HTMLElement): HTMLLabelElement {
  return el("label", { class: "field" }, el("span", {}, label), control);
}
