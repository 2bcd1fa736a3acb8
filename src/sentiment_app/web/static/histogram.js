// How sure the verdicts are, as an inline SVG histogram built here (no library, no outside request):
// one column per 5 points of confidence from 50% to 100%, positive verdicts stacked on negative ones.
"use strict";

import { confidence } from "./reviews.js";

export const BINS = 10; // 50-55%, 55-60%, ..., 95-100%
const SVG = "http://www.w3.org/2000/svg";
const WIDTH = 320, HEIGHT = 150, TOP = 10, BOTTOM = 22, LEFT = 6;
const STACK = ["negative", "positive"]; // bottom to top

/** Per bin, the number of positive and of negative verdicts: [{positive, negative}] of length BINS. */
export function binCounts(results) {
  const bins = Array.from({ length: BINS }, () => ({ positive: 0, negative: 0 }));
  for (const result of results) {
    if (result.error !== undefined) continue;
    const bin = Math.min(BINS - 1, Math.max(0, Math.floor((confidence(result) - 0.5) * 2 * BINS)));
    bins[bin][result.label] += 1;
  }
  return bins;
}

function element(name, attributes, text) {
  const node = document.createElementNS(SVG, name);
  for (const [key, value] of Object.entries(attributes)) node.setAttribute(key, String(value));
  if (text !== undefined) node.textContent = text;
  return node;
}

const percent = (bin) => 50 + (bin * 50) / BINS;

/** The histogram of `results` ({label, probability} or {error}) as an <svg> element. */
export function histogram(results) {
  const bins = binCounts(results);
  const tallest = Math.max(1, ...bins.map((bin) => bin.positive + bin.negative));
  const plotHeight = HEIGHT - TOP - BOTTOM;
  const step = (WIDTH - 2 * LEFT) / BINS;
  const svg = element("svg", { viewBox: `0 0 ${WIDTH} ${HEIGHT}`, class: "histogram", role: "img",
                               "aria-labelledby": "histogram-title" });
  svg.append(element("title", { id: "histogram-title" }, "Confidence of the verdicts, " + BINS +
    " bins from 50% to 100%: " + bins.map((bin, i) => percent(i) + "–" + percent(i + 1) + "%: " +
      bin.positive + " positive, " + bin.negative + " negative").join("; ")));
  bins.forEach((bin, i) => {
    let base = HEIGHT - BOTTOM;
    for (const label of STACK) {
      const count = bin[label];
      if (!count) continue;
      const height = (count / tallest) * plotHeight;
      base -= height;
      const bar = element("rect", { x: LEFT + i * step + 1, y: base, width: step - 2, height, class: "bar " + label,
                                    "data-bin": i, "data-label": label, "data-count": count });
      bar.append(element("title", {}, `${percent(i)}–${percent(i + 1)}%: ${count} ${label}`));
      svg.append(bar);
    }
  });
  svg.append(element("line", { x1: LEFT, x2: WIDTH - LEFT, y1: HEIGHT - BOTTOM, y2: HEIGHT - BOTTOM, class: "axis" }));
  for (const bin of [0, BINS / 2, BINS]) {
    const anchor = bin === 0 ? "start" : bin === BINS ? "end" : "middle";
    svg.append(element("text", { x: LEFT + bin * step, y: HEIGHT - 6, "text-anchor": anchor, class: "tick" },
      percent(bin) + "%"));
  }
  return svg;
}
