// Sends the review to the sentiment API and shows the answer. Results are written with textContent
// only, and any non-2xx reply or network failure is shown as an error, never as a verdict.
"use strict";

(function () {
  const API_URL = window.SENTIMENT_API_URL || "/api/sentiment";
  const TIMEOUT_MS = 35000; // a little over API Gateway's 29 s integration timeout
  const QUOTE_CHARS = 280;

  const $ = (id) => document.getElementById(id);
  const form = $("form");
  const review = $("review");
  const submit = $("submit");
  const result = $("result");
  const error = $("error");
  const submitLabel = submit.textContent;

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
    const confidence = Math.round((positive ? answer.probability : 1 - answer.probability) * 100);
    $("label").textContent = positive ? "POSITIVE" : "NEGATIVE";
    $("confidence").textContent = "Confidence: " + confidence + "%";
    $("meter-fill").style.width = confidence + "%";
    $("quoted").textContent = text.length > QUOTE_CHARS ? text.slice(0, QUOTE_CHARS) + "…" : text;
    $("model-version").textContent = answer.model_version ? "Model " + answer.model_version : "";
    result.className = "result " + (positive ? "positive" : "negative");
    error.hidden = true;
    result.hidden = false;
  }

  // The reply as a checked {label, probability, model_version}; throws an Error with a readable message.
  async function analyse(text) {
    let response;
    try {
      response = await fetch(API_URL, {
        method: "POST",
        headers: { "Content-Type": "text/plain;charset=UTF-8" }, // a CORS simple request: no preflight
        body: text,
        signal: AbortSignal.timeout(TIMEOUT_MS),
      });
    } catch (failure) {
      throw new Error(failure.name === "TimeoutError"
        ? "The sentiment service took too long to answer. Please try again."
        : "Could not reach the sentiment service. Check your connection and try again.");
    }
    const answer = await response.json().catch(() => null);
    if (!response.ok) {
      const detail = answer && typeof answer.message === "string" ? answer.message : "";
      throw new Error("Sorry, the review could not be analysed (error " + response.status + ")" +
        (detail ? ": " + detail : "."));
    }
    if (!answer || !["positive", "negative"].includes(answer.label) || typeof answer.probability !== "number") {
      throw new Error("The sentiment service sent an answer this page does not understand.");
    }
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
      showResult(text, await analyse(text));
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
})();
