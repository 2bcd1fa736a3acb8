// What every call to the sentiment API shares: where it is (config.js), the API key the user typed
// when the service needs one, and failures turned into messages people can act on.
"use strict";

export const API_URL = window.SENTIMENT_API_URL || "/api/sentiment";
// With `serve --require-api-key` the user types a key; config.js only says one is needed, never which.
export const KEY_REQUIRED = window.SENTIMENT_API_KEY_REQUIRED === true;
const TIMEOUT_MS = 35000; // a little over API Gateway's 29 s integration timeout

const apiKey = document.getElementById("api-key");

/** A failed call: `status` is the HTTP status (0: no answer), `detail` the API's own message if any,
 * `retryAfterMs` what a Retry-After header asked for (null: none). */
export class ApiError extends Error {
  constructor(message, status = 0, detail = "", retryAfterMs = null) {
    super(message);
    this.status = status;
    this.detail = detail;
    this.retryAfterMs = retryAfterMs;
  }
}

/** The absolute URL of the API, with `params` as query parameters. */
export function apiUrl(params = {}) {
  const url = new URL(API_URL, window.location.href);
  for (const [name, value] of Object.entries(params)) url.searchParams.set(name, value);
  return url.href;
}

/** Where feedback on a verdict goes: the API URL with its last path segment `sentiment` replaced by
 * `feedback`; null when the API URL does not end in `sentiment` (then the page cannot know). */
export function feedbackUrl() {
  const url = new URL(API_URL, window.location.href);
  if (!/\/sentiment$/.test(url.pathname)) return null;
  url.pathname = url.pathname.replace(/sentiment$/, "feedback");
  url.search = "";
  return url.href;
}

// Retry-After in milliseconds (seconds or an HTTP date, as RFC 9110 allows); null when absent or unreadable.
function retryAfter(response) {
  const value = response.headers.get("Retry-After");
  if (value === null || !value.trim()) return null;
  const seconds = Number(value);
  const ms = Number.isFinite(seconds) ? seconds * 1000 : Date.parse(value) - Date.now();
  return Number.isFinite(ms) ? Math.max(0, ms) : null;
}

/** POSTs `body` (of media type `type`) to `url`; the parsed JSON of a 2xx answer, else an ApiError
 * whose message says what `failed` (e.g. "the review could not be analysed"). */
export async function post(url, body, type, failed = "the review could not be analysed") {
  const headers = { "Content-Type": type };
  if (KEY_REQUIRED && apiKey.value.trim()) headers["x-api-key"] = apiKey.value.trim();
  let response;
  try {
    response = await fetch(url, { method: "POST", headers, body, signal: AbortSignal.timeout(TIMEOUT_MS) });
  } catch (failure) {
    throw new ApiError(failure.name === "TimeoutError"
      ? "The sentiment service took too long to answer. Please try again."
      : "Could not reach the sentiment service. Check your connection and try again.");
  }
  const answer = await response.json().catch(() => null);
  if (response.ok) return answer;
  const detail = answer && typeof answer.message === "string" ? answer.message : "";
  const message = response.status === 403 && KEY_REQUIRED
    ? "The API key is missing, wrong or revoked: enter a valid key."
    : "Sorry, " + failed + " (error " + response.status + ")" + (detail ? ": " + detail : ".");
  throw new ApiError(message, response.status, detail, retryAfter(response));
}

/** Whether `answer` is one verdict the page can show. */
export function isVerdict(answer) {
  return Boolean(answer) && ["positive", "negative"].includes(answer.label) && typeof answer.probability === "number";
}

export const NOT_UNDERSTOOD = "The sentiment service sent an answer this page does not understand.";
