// The course's frame, run from <head> (launch(head=...)) before Gradio mounts the app.
// 1. Storage that cannot throw: in a cross-site iframe whose browser blocks third-party storage,
//    reading window.localStorage throws SecurityError, and gr.BrowserState reads it unguarded
//    (the page could stay on its loading skeleton). An in-memory stand-in keeps progress for the
//    visit, and <html class="course-storage-memory"> lets the page say so.
// 2. The address bar follows the course's tabs: ?tab=<id> is pushed when the visitor changes
//    tab (other tools' parameters dropped, __theme kept); Back and Forward switch tabs.
// 3. The tabs follow the WAI-ARIA tabs pattern: arrow keys, Home and End move between them.
// 4. A tool's main action (.tool-action: a click on its button, or Enter in its one-line box)
//    brings its result (.tool-result) into view when the result is off-screen.
(() => {
  "use strict";

  // ---- 1. storage ------------------------------------------------------------------------
  function usable(name) {
    try {
      const storage = window[name];
      const probe = "__course_storage_probe__";
      storage.setItem(probe, probe);
      storage.removeItem(probe);
      return true;
    } catch (err) {
      return false;
    }
  }

  function memoryStorage() {
    const items = new Map();
    return {
      get length() {
        return items.size;
      },
      key: (i) => [...items.keys()][i] ?? null,
      getItem: (k) => (items.has(String(k)) ? items.get(String(k)) : null),
      setItem: (k, v) => void items.set(String(k), String(v)),
      removeItem: (k) => void items.delete(String(k)),
      clear: () => items.clear(),
    };
  }

  let inMemory = false;
  for (const name of ["localStorage", "sessionStorage"]) {
    if (usable(name)) continue;
    try {
      Object.defineProperty(window, name, { value: memoryStorage(), configurable: true });
      inMemory = true;
    } catch (err) {
      console.warn(`course: ${name} is unavailable and could not be replaced`, err);
    }
  }
  window.__courseStorage = inMemory ? "memory" : "browser";
  if (inMemory) document.documentElement.classList.add("course-storage-memory");

  // ---- 2. address bar and 3. keyboard, for the course's tabs ------------------------------
  const TABS = "#course-tabs";
  // The Space's own page (index.html sets this); in Gradio's web component the address bar
  // belongs to the course site around it and is left alone.
  const OWNS_ADDRESS = window.__gradio_mode__ === "app";
  const APP_TITLE = window.gradio_config?.title || document.title;
  let fromHistory = false;

  function tabButtons() {
    const tabs = document.querySelector(TABS);
    if (!tabs) return [];
    return [...tabs.querySelectorAll(":scope > .tab-wrapper [role=tab][data-tab-id]")];
  }

  function buttonFor(id) {
    return tabButtons().find((b) => b.dataset.tabId === id);
  }

  function urlFor(id) {
    const now = new URL(window.location.href);
    const next = new URL(window.location.pathname, window.location.origin);
    next.searchParams.set("tab", id);
    const theme = now.searchParams.get("__theme");
    if (theme) next.searchParams.set("__theme", theme);
    return next;
  }

  function showTitle(button) {
    if (button) document.title = `${button.textContent.trim()} · ${APP_TITLE || "Course"}`;
  }

  // Roving tabindex: Tab reaches the open tab; the arrow keys reach the others.
  function syncTabindex() {
    for (const b of tabButtons()) {
      b.tabIndex = b.getAttribute("aria-selected") === "true" ? 0 : -1;
    }
  }

  // The tab named by ?tab= is opened here, as soon as the tabs exist, not by a load event on
  // the server: its answer arrived late on a busy Space and took back a tab the visitor had
  // already picked. (app.py's load event only warns about an unknown name.)
  // Gradio applies the Tabs' initial `selected` in an effect after the buttons exist, so the
  // requested tab is clicked again (until the visitor picks one) if it was taken back.
  let initialPending = true;
  let initialTimer = 0;
  let opening = false;
  function openRequestedTab() {
    if (!OWNS_ADDRESS) initialPending = false;
    if (!initialPending || initialTimer) return;
    const wanted = new URL(window.location.href).searchParams.get("tab");
    if (!wanted) {
      initialPending = false;
      return;
    }
    const button = buttonFor(wanted);
    if (!button) return; // not rendered yet, or unknown (then the server says so)
    initialTimer = setTimeout(() => {
      initialTimer = 0;
      if (!initialPending || button.getAttribute("aria-selected") === "true") return;
      opening = true;
      try {
        button.click();
      } finally {
        opening = false;
      }
    }, 30);
  }
  setTimeout(() => (initialPending = false), 4000);

  // A visitor's click on a tab (or an arrow key, which clicks) records the tab in the address.
  document.addEventListener("click", (event) => {
    const button = event.target.closest?.(`${TABS} > .tab-wrapper [role=tab][data-tab-id]`);
    if (!button) return;
    if (!opening) initialPending = false; // the visitor (or Back/Forward) chose a tab
    const id = button.dataset.tabId;
    if (!OWNS_ADDRESS) return;
    showTitle(button);
    if (fromHistory) return;
    const current = new URL(window.location.href).searchParams.get("tab");
    if (current !== id) history.pushState({ tab: id }, "", urlFor(id));
  });

  window.addEventListener("popstate", () => {
    if (!OWNS_ADDRESS) return;
    const buttons = tabButtons();
    if (!buttons.length) return;
    const wanted = new URL(window.location.href).searchParams.get("tab");
    const button = buttonFor(wanted) || buttons[0];
    if (button.getAttribute("aria-selected") === "true") return;
    fromHistory = true;
    try {
      button.click();
    } finally {
      fromHistory = false;
    }
  });

  // A link inside the course to one of its own tabs (?tab=<id> and nothing else) switches the
  // tab in place instead of reloading the course.
  document.addEventListener("click", (event) => {
    if (event.defaultPrevented || event.button !== 0) return;
    if (event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
    const link = event.target.closest?.("a[href]");
    // (Gradio's Markdown gives every link target="_blank"; a link to a tab of this very page
    // is still better followed in place.)
    if (!OWNS_ADDRESS || !link || !document.querySelector(TABS)) return;
    const url = new URL(link.href, window.location.href);
    if (url.origin !== window.location.origin || url.pathname !== window.location.pathname) return;
    const keys = [...url.searchParams.keys()].filter((k) => k !== "__theme");
    if (keys.length !== 1 || keys[0] !== "tab" || url.hash) return;
    const button = buttonFor(url.searchParams.get("tab"));
    if (!button) return;
    event.preventDefault();
    button.click();
    button.focus({ preventScroll: true });
    document.querySelector(TABS).scrollIntoView({ block: "start", behavior: motion() });
  });

  document.addEventListener("keydown", (event) => {
    const button = event.target.closest?.(`${TABS} > .tab-wrapper [role=tab][data-tab-id]`);
    if (!button || event.altKey || event.ctrlKey || event.metaKey) return;
    const buttons = tabButtons().filter((b) => !b.disabled);
    const i = buttons.indexOf(button);
    const moves = {
      ArrowRight: i + 1,
      ArrowDown: i + 1,
      ArrowLeft: i - 1,
      ArrowUp: i - 1,
      Home: 0,
      End: buttons.length - 1,
    };
    if (!(event.key in moves) || i < 0) return;
    event.preventDefault();
    const next = buttons[(moves[event.key] + buttons.length) % buttons.length];
    next.focus();
    next.click();
  });

  // ---- 4. action and result --------------------------------------------------------------
  function motion() {
    return window.matchMedia("(prefers-reduced-motion: reduce)").matches ? "auto" : "smooth";
  }

  // Off screen: its top above the screen or near the bottom, or (when it fits) its end hidden
  // below the bottom; on narrow screens the action bar is sticky and covers the screen's bottom.
  function offScreen(el, action) {
    const r = el.getBoundingClientRect();
    if (!r.width && !r.height) return false; // hidden
    const sticky = action && getComputedStyle(action).position === "sticky";
    const bottom = sticky ? action.getBoundingClientRect().top : window.innerHeight;
    return r.top < 0 || r.top > bottom - 48 || (r.bottom > bottom && r.height < bottom);
  }

  function bringResult(action) {
    const scope =
      action.closest("[role=tabpanel]") || action.closest(".tool-scope") || document.body;
    const result = scope.querySelector(".tool-result");
    if (!result) return;
    // Let the action's first update land (the result may be appearing) before measuring.
    setTimeout(() => {
      if (offScreen(result, action)) result.scrollIntoView({ block: "start", behavior: motion() });
    }, 150);
  }

  document.addEventListener("click", (event) => {
    const action = event.target.closest?.(".tool-action");
    if (!action || !event.target.closest("button")) return;
    bringResult(action);
  });

  // Enter in a one-line box of the action submits it (Gradio), like a click on its button; in a
  // box of several rows Enter adds a line, and Shift+Enter always does.
  document.addEventListener("keydown", (event) => {
    if (event.key !== "Enter" || event.shiftKey || event.isComposing) return;
    const field = event.target;
    const action = field.closest?.(".tool-action");
    if (!action) return;
    const oneLine = field.tagName === "INPUT" || (field.tagName === "TEXTAREA" && field.rows <= 1);
    if (oneLine) bringResult(action);
  });

  // ---- 5. code colours --------------------------------------------------------------------
  // gr.Code highlights with CodeMirror's Nord light palette (2.0-4.0:1 on white). Its rules have
  // generated class names, so they are found by colour and overridden on light pages only.
  const CODE_COLORS = {
    "#5e81ac": "#4b6a91",
    "#d08770": "#a45036",
    "#81a1c1": "#476b90",
    "#a3be8c": "#577140",
    "#8fbcbb": "#436f6e",
    "#88c0d0": "#337082",
    "#ebcb8b": "#886318",
    "#b48ead": "#875a7f",
    "#bf616a": "#b04751",
  };
  // The dark palette's comments are grey-500 on grey-800 (3.7:1).
  const DARK_CODE_COLORS = { "#808080": "#a8a8a8" };
  const recoloured = new Set();
  let codeStyle = null;

  function hex(color) {
    const m = /^rgba?\((\d+),\s*(\d+),\s*(\d+)/.exec(color || "");
    return m ? "#" + m.slice(1, 4).map((n) => Number(n).toString(16).padStart(2, "0")).join("") : "";
  }

  let sheetsSeen = -1; // the number of CSS rules last scanned
  function recolourCode() {
    if (!document.querySelector(".cm-editor")) return;
    const sheets = [...document.styleSheets, ...(document.adoptedStyleSheets || [])];
    // Look again only when rules were added somewhere (CodeMirror adds its own on first use).
    let count = 0;
    for (const sheet of sheets) {
      try {
        count += sheet.cssRules.length;
      } catch (err) {
        // a cross-origin sheet: not ours to read
      }
    }
    if (count === sheetsSeen) return;
    sheetsSeen = count;
    const extra = [];
    for (const sheet of sheets) {
      let rules;
      try {
        rules = sheet.cssRules;
      } catch (err) {
        continue;
      }
      for (const rule of rules) {
        const selector = rule.selectorText || "";
        if (!/^\.ͼ[\w-]+$/.test(selector) || recoloured.has(selector)) continue;
        const color = hex(rule.style.color);
        if (CODE_COLORS[color]) {
          extra.push(`${selector}:not(.dark *) { color: ${CODE_COLORS[color]} !important; }`);
        } else if (DARK_CODE_COLORS[color]) {
          extra.push(`.dark ${selector} { color: ${DARK_CODE_COLORS[color]} !important; }`);
        } else continue;
        recoloured.add(selector);
      }
    }
    if (!extra.length) return;
    codeStyle = codeStyle || document.head.appendChild(document.createElement("style"));
    codeStyle.textContent += extra.join("\n") + "\n";
  }

  // ---- 6. accessible names and groups Gradio leaves out ------------------------------------
  let groups = 0;
  const regionNames = new Map();

  // A keyboard-scrollable region needs a name, and landmarks need distinct ones.
  function nameRegion(el, base) {
    const n = (regionNames.get(base) || 0) + 1;
    regionNames.set(base, n);
    el.setAttribute("role", "region");
    el.setAttribute("aria-label", n === 1 ? base : `${base} ${n}`);
    el.dataset.courseRegion = "1";
  }

  function tidy() {
    syncTabindex();
    const open = tabButtons().find((b) => b.getAttribute("aria-selected") === "true");
    if (OWNS_ADDRESS && open && !open.dataset.courseTitled) {
      for (const b of tabButtons()) delete b.dataset.courseTitled;
      open.dataset.courseTitled = "1";
      showTitle(open);
    }
    for (const b of tabButtons()) {
      const panel = document.getElementById(b.getAttribute("aria-controls") || "");
      if (panel && !panel.hasAttribute("aria-labelledby")) panel.setAttribute("aria-labelledby", b.id);
    }
    // gr.Radio names each option's input differently ("radio-1", "radio-2"...), which makes
    // every option a group of its own: arrow keys did nothing. One name per fieldset.
    for (const set of document.querySelectorAll("fieldset")) {
      const radios = set.querySelectorAll("input[type=radio]");
      if (!radios.length) continue;
      if (!set.dataset.courseGroup) set.dataset.courseGroup = `course-radio-${++groups}`;
      for (const r of radios) if (r.name !== set.dataset.courseGroup) r.name = set.dataset.courseGroup;
      const info = set.querySelector(":scope > [data-testid=block-info]");
      if (info && !set.hasAttribute("aria-labelledby")) {
        info.id = info.id || `${set.dataset.courseGroup}-label`;
        set.setAttribute("aria-labelledby", info.id);
      }
    }
    // Gradio's empty plot and label boxes carry aria-label on a plain div (not allowed there).
    for (const box of document.querySelectorAll(".empty[aria-label]:not([role])")) {
      box.setAttribute("role", "img");
    }
    // A read-only code box that scrolls must be reachable by keyboard to be scrolled.
    for (const scroller of document.querySelectorAll(".cm-scroller:not([data-course-keys])")) {
      scroller.dataset.courseKeys = "1";
      if (!scroller.querySelector("[contenteditable=true]")) {
        scroller.tabIndex = 0;
        const label = scroller.closest(".block")?.querySelector("[data-testid=block-label]");
        nameRegion(scroller, label?.textContent.trim() || "Code");
      }
    }
    // A code block in a lesson that scrolls sideways (long lines, phones) must be reachable by
    // keyboard to be scrolled; one that fits stays out of the Tab order.
    for (const pre of document.querySelectorAll(".prose pre")) {
      const scrolls = pre.scrollWidth > pre.clientWidth + 1;
      if (scrolls && pre.tabIndex !== 0) {
        pre.tabIndex = 0;
        nameRegion(pre, "Code example");
      } else if (!scrolls && pre.dataset.courseRegion) {
        pre.removeAttribute("tabindex");
        pre.removeAttribute("role");
        pre.removeAttribute("aria-label");
        delete pre.dataset.courseRegion;
      }
    }
    // The footer's icons repeat the text beside them.
    for (const img of document.querySelectorAll("footer img[alt]:not([alt=''])")) {
      if (img.parentElement?.textContent.includes(img.alt)) img.alt = "";
    }
    recolourCode();
  }

  // Gradio renders the app after this script and re-renders parts of it on every update. A
  // training run redraws its plots several times a second: their inner changes (inside an
  // <svg>, or text) are ignored, and the rest is tidied at most every 200 ms, so that the page
  // stays responsive (a busy main thread delayed clicks on Stop by seconds).
  let pending = 0;
  let lastTidy = 0;
  function scheduleTidy(delay) {
    if (pending) return;
    pending = setTimeout(() => {
      pending = 0;
      lastTidy = performance.now();
      tidy();
    }, delay);
  }
  function matters(record) {
    if (record.type === "attributes") return true; // aria-selected: a tab changed
    for (const node of record.addedNodes) {
      if (node.nodeType === 1 && !node.closest("svg, .vega-embed, .cm-content")) return true;
    }
    return false;
  }
  const observer = new MutationObserver((records) => {
    if (!records.some(matters)) return;
    openRequestedTab();
    syncTabindex();
    scheduleTidy(Math.max(40, 200 - (performance.now() - lastTidy)));
  });
  window.addEventListener("resize", () => scheduleTidy(150));
  const start = () =>
    observer.observe(document.body, {
      subtree: true,
      childList: true,
      attributes: true,
      attributeFilter: ["aria-selected"],
    });
  if (document.body) start();
  else document.addEventListener("DOMContentLoaded", start);
})();
