/**
 * @file The playground page: three views chosen by the address's #fragment, each mounted the
 * first time it is shown. Errors that escape a view are shown on the page, never only in the
 * console.
 */

import "./style.css";
import { showMessage } from "./ui.js";
import { mountChainRule } from "./views/chain-rule.js";
import { mountDigits } from "./views/digits.js";
import { mountLearn } from "./views/learn.js";

const views: Record<string, (root: HTMLElement) => void> = {
  chain: mountChainRule,
  learn: mountLearn,
  mnist: mountDigits,
};

const main = document.getElementById("view") as HTMLElement;
const pageError = document.getElementById("page-error") as HTMLElement;
const mounted = new Map<string, HTMLElement>();

function show(): void {
  const name = location.hash.slice(1) in views ? location.hash.slice(1) : "chain";
  for (const [key, section] of mounted) section.hidden = key !== name;
  if (!mounted.has(name)) {
    const section = document.createElement("section");
    section.id = `view-${name}`;
    main.append(section);
    mounted.set(name, section);
    (views[name] as (root: HTMLElement) => void)(section);
  }
  for (const a of document.querySelectorAll<HTMLAnchorElement>("nav a")) {
    a.classList.toggle("active", a.dataset.view === name);
  }
}

window.addEventListener("error", (event) => showMessage(pageError, `Something went wrong: ${event.message}`));
window.addEventListener("unhandledrejection", (event) =>
  showMessage(
    pageError,
    `Something went wrong: ${event.reason instanceof Error ? event.reason.message : event.reason}`,
  ),
);
window.addEventListener("hashchange", show);
show();
