// "Many reviews at once": pasted lines or an uploaded file go through the API in batches (batches.js)
// with a progress bar; then a summary (share positive, a histogram of confidence), a table of the
// verdicts and the results as a CSV download. Text goes in as text nodes only, never as HTML.
"use strict";

import { analyseAll } from "./batches.js";
import { histogram } from "./histogram.js";
import { confidence, resultsCsv, reviewsFromFile, reviewsFromLines } from "./reviews.js";

const SNIPPET_CHARS = 200; // of each review in the table; the CSV holds it whole

const $ = (id) => document.getElementById(id);
const form = $("batch-form");
const pasted = $("batch-text");
const file = $("batch-file");
const submit = $("batch-submit");
const error = $("batch-error");
const progressRow = $("batch-progress-row");
const progress = $("batch-progress");
const status = $("batch-status");
const result = $("batch-result");
const download = $("batch-download");
const count = new Intl.NumberFormat("en");
const share = new Intl.NumberFormat("en", { style: "percent", maximumFractionDigits: 1 });

function setBusy(busy) {
  submit.disabled = busy;
  file.disabled = busy;
  form.setAttribute("aria-busy", String(busy));
}

function showError(message) {
  progressRow.hidden = true;
  result.hidden = true;
  error.textContent = message;
  error.hidden = false;
}

function showProgress(done, total, waitingMs) {
  progress.value = done;
  status.textContent = count.format(done) + " of " + count.format(total) + " reviews analysed" +
    (waitingMs > 0 ? "; the service asked to slow down, trying again shortly…" : "…");
}

function cell(row, text, className) {
  const td = row.insertCell();
  td.textContent = text;
  if (className) td.className = className;
}

function showTable(reviews, results) {
  const rows = document.createDocumentFragment();
  reviews.forEach((review, i) => {
    const outcome = results[i];
    const row = document.createElement("tr");
    cell(row, String(review.row), "number");
    cell(row, review.text.length > SNIPPET_CHARS ? review.text.slice(0, SNIPPET_CHARS) + "…" : review.text);
    if (outcome.error === undefined) {
      cell(row, outcome.label.toUpperCase(), "outcome " + outcome.label);
      cell(row, Math.round(confidence(outcome) * 100) + "%", "number");
    } else {
      cell(row, "Not analysed: " + outcome.error, "outcome failed");
      cell(row, "", "number");
    }
    rows.append(row);
  });
  $("batch-rows").replaceChildren(rows);
}

function showSummary(results, seconds) {
  const analysed = results.filter((outcome) => outcome.error === undefined);
  const positive = analysed.filter((outcome) => outcome.label === "positive").length;
  const negative = analysed.length - positive;
  const failed = results.length - analysed.length;
  $("batch-summary").textContent = count.format(results.length) + " reviews: " +
    (analysed.length ? share.format(positive / analysed.length) + " positive (" + count.format(positive) + "), " +
      share.format(negative / analysed.length) + " negative (" + count.format(negative) + ")" : "none analysed") +
    (failed ? "; " + count.format(failed) + " could not be analysed (see the table)." : ".");
  $("batch-time").textContent = "Analysed in " + seconds.toFixed(1) + " s.";
  $("batch-chart").replaceChildren(histogram(results));
}

function offerDownload(reviews, results) {
  if (download.href) URL.revokeObjectURL(download.href);
  download.href = URL.createObjectURL(new Blob([resultsCsv(reviews, results)], { type: "text/csv;charset=utf-8" }));
}

async function run(reviews) {
  error.hidden = true;
  result.hidden = true;
  progress.max = reviews.length;
  showProgress(0, reviews.length, 0);
  progressRow.hidden = false;
  setBusy(true);
  const started = performance.now();
  try {
    const results = await analyseAll(reviews, (done, waitingMs) => showProgress(done, reviews.length, waitingMs));
    showSummary(results, (performance.now() - started) / 1000);
    showTable(reviews, results);
    offerDownload(reviews, results);
    progressRow.hidden = true;
    result.hidden = false;
  } catch (failure) {
    showError(failure.message);
  } finally {
    setBusy(false);
  }
}

form.addEventListener("submit", (event) => {
  event.preventDefault();
  const reviews = reviewsFromLines(pasted.value);
  if (!reviews.length) {
    showError("Paste some reviews first, one per line, or choose a file.");
    pasted.focus();
    return;
  }
  run(reviews);
});

file.addEventListener("change", async () => {
  const chosen = file.files[0];
  if (!chosen) return;
  file.value = ""; // so that choosing the same file again analyses it again
  let reviews;
  try {
    reviews = reviewsFromFile(chosen.name, chosen.type, await chosen.text());
  } catch (failure) {
    showError(failure.message);
    return;
  }
  if (!reviews.length) {
    showError(chosen.name + " holds no reviews.");
    return;
  }
  run(reviews);
});
