// Sends the review to the sentiment API and shows the answer, with the words that made the verdict
// highlighted in the review (green: towards positive, red: towards negative), then asks whether the
// verdict was right (feedback.js). Everything is built from text nodes and textContent only, and any
// non-2xx reply or network failure is shown as an error, never as a verdict.
"use strict";

import { KEY_REQUIRED, NOT_UNDERSTOOD, apiUrl, isVerdict, post } from "./api.js";
import { askFeedback } from "./feedback.js";
import { confidence } from "./reviews.js";

const QUOTE_CHARS = 3000;

const $ = (id) => document.getElementById(id);
const form = $("form");
const review = $("review");
const submit = $("submit");
const result = $("result");
const error = $("error");
const submitLabel = submit.textContent;
$("api-key-row").hidden = !KEY_REQUIRED;

function setBusy(busy) {
  submit.disabled = busy;
  submit.textContent = busy ? "Analysing…" : submitLabel;
  form.setAttribute("aria-busy", String(busy));
}

function showError(message) {
  result.hidden = true;
  error.textContent = message;
  error.hidden = false;
}

function showResult(text, answer) {
  const positive = answer.label === "positive";
  const percent = Math.round(confidence(answer) * 100);
  $("label").textContent = positive ? "POSITIVE" : "NEGATIVE";
  $("confidence").textContent = "Confidence: " + percent + "%";
  $("meter-fill").style.width = percent + "%";
  showHighlights(text, Array.isArray(answer.words) ? answer.words : []);
  showSentences(text, Array.isArray(answer.sentences) ? answer.sentences : []);
  $("model-version").textContent = answer.model_version ? "Model " + answer.model_version : "";
  result.className = "result " + (positive ? "positive" : "negative");
  error.hidden = true;
  result.hidden = false;
}

// UTF-16 index (JavaScript's) of every code point index (the API's), so emoji do not shift marks.
function utf16Offsets(text) {
  const offsets = [0];
  for (const ch of text) offsets.push(offsets[offsets.length - 1] + ch.length);
  return offsets;
}

// Marks [{start, end, weight, word}] in JavaScript indices: sorted, inside the shown text, no overlaps.
function marksFor(text, words, shown) {
  const offsets = utf16Offsets(text);
  const marks = [];
  for (const item of words) {
    if (!item || typeof item.weight !== "number" || !Array.isArray(item.spans)) continue;
    for (const span of item.spans) {
      if (!Array.isArray(span) || !Number.isInteger(span[0]) || !Number.isInteger(span[1])) continue;
      const start = offsets[span[0]], end = offsets[span[1]];
      if (start === undefined || end === undefined || start >= end || end > shown) continue;
      marks.push({ start, end, weight: item.weight, word: String(item.word) });
    }
  }
  marks.sort((a, b) => a.start - b.start);
  return marks.filter((mark, i) => i === 0 || mark.start >= marks[i - 1].end);
}

// The review as text nodes, with a <mark> per explaining word: colour by sign, intensity by weight.
function showHighlights(text, words) {
  const quoted = $("quoted");
  const shown = text.length > QUOTE_CHARS ? QUOTE_CHARS : text.length;
  const marks = marksFor(text, words, shown);
  const strongest = Math.max(0, ...marks.map((mark) => Math.abs(mark.weight))) || 1;
  quoted.replaceChildren();
  let last = 0;
  for (const mark of marks) {
    quoted.append(document.createTextNode(text.slice(last, mark.start)));
    const element = document.createElement("mark");
    element.className = mark.weight > 0 ? "towards-positive" : "towards-negative";
    element.style.setProperty("--strength", (0.2 + 0.8 * Math.abs(mark.weight) / strongest).toFixed(3));
    element.title = mark.word + ": " + (mark.weight > 0 ? "+" : "") + mark.weight.toFixed(3);
    element.textContent = text.slice(mark.start, mark.end);
    quoted.append(element);
    last = mark.end;
  }
  quoted.append(document.createTextNode(text.slice(last, shown) + (shown < text.length ? "…" : "")));
  $("legend").hidden = marks.length === 0;
}

// Each sentence's verdict and confidence under the overall one, when the review has several.
function showSentences(text, sentences) {
  const offsets = utf16Offsets(text);
  const list = $("sentence-list");
  list.replaceChildren();
  for (const sentence of sentences) {
    const start = offsets[sentence.start], end = offsets[sentence.end];
    if (start === undefined || end === undefined || start >= end || !isVerdict(sentence)) continue;
    const item = document.createElement("li");
    const positive = sentence.label === "positive";
    item.className = positive ? "towards-positive" : "towards-negative";
    const verdict = document.createElement("span");
    verdict.className = "sentence-verdict";
    verdict.textContent = (positive ? "positive " : "negative ") + Math.round(confidence(sentence) * 100) + "%";
    item.append(verdict, document.createTextNode(" " + text.slice(start, end)));
    list.append(item);
  }
  $("sentences").hidden = list.children.length < 2;
}

// The reply as a checked {label, probability, model_version, words, inference_id}; throws an Error
// with a readable message. `?explain=true` (a query parameter keeps it a CORS simple request, as does
// text/plain) asks for the explaining words too, `sentences=true` for each sentence's verdict.
async function analyse(text) {
  const answer = await post(apiUrl({ explain: "true", sentences: "true" }), text, "text/plain;charset=UTF-8");
  if (!isVerdict(answer)) throw new Error(NOT_UNDERSTOOD);
  return answer;
}

form.addEventListener("submit", async (event) => {
  event.preventDefault();
  const text = review.value;
  if (!text.trim()) {
    showError("Please write a review first.");
    review.focus();
    return;
  }
  setBusy(true);
  try {
    const answer = await analyse(text);
    showResult(text, answer);
    askFeedback(answer);
  } catch (failure) {
    showError(failure.message);
  } finally {
    setBusy(false);
  }
});

review.addEventListener("keydown", (event) => {
  if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) form.requestSubmit();
});

for (const button of document.querySelectorAll("button.example")) {
  button.addEventListener("click", () => {
    review.value = button.dataset.review;
    review.focus();
  });
}
