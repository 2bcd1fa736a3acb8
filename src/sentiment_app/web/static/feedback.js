// "Right?" under a verdict: the user says whether the model got it right, and the page sends the
// review's true label to the feedback API with the verdict's inference id, so the answer can later
// be joined with what the endpoint recorded and used to judge or retrain the model.
"use strict";

import { feedbackUrl, post } from "./api.js";

const FEEDBACK_URL = feedbackUrl();
const row = document.getElementById("feedback");
const question = document.getElementById("feedback-question");
const buttons = [document.getElementById("feedback-right"), document.getElementById("feedback-wrong")];
const status = document.getElementById("feedback-status");
let current = null; // the verdict being asked about; an answer for an older one is ignored

function setStatus(text, failed) {
  status.textContent = text;
  status.className = failed ? "feedback-status failed" : "feedback-status";
}

/** Asks "Right?" about `answer` (a verdict from the API), or hides the question when the answer has
 * no inference id or the page does not know the feedback URL. */
export function askFeedback(answer) {
  const id = typeof answer.inference_id === "string" ? answer.inference_id : "";
  current = FEEDBACK_URL && id ? { id, label: answer.label } : null;
  row.hidden = current === null;
  for (const button of buttons) button.disabled = false;
  question.hidden = false;
  setStatus("", false);
}

async function send(right) {
  const verdict = current;
  if (!verdict) return;
  const other = verdict.label === "positive" ? "negative" : "positive";
  const body = JSON.stringify({ inference_id: verdict.id, label: right ? verdict.label : other });
  for (const button of buttons) button.disabled = true;
  setStatus("Sending…", false);
  try {
    await post(FEEDBACK_URL, body, "application/json", "your answer could not be sent");
    if (verdict !== current) return;
    question.hidden = true;
    setStatus("Thank you: your answer helps improve the model.", false);
  } catch (failure) {
    if (verdict !== current) return;
    for (const button of buttons) button.disabled = false;
    setStatus(failure.message, true);
  }
}

buttons[0].addEventListener("click", () => send(true));
buttons[1].addEventListener("click", () => send(false));
