// Many reviews through the sentiment API: batches of `{"instances": [...]}` within the API's limits,
// a few requests in flight at once, and patience when the API asks for it: a 429 or a busy service
// is retried after an exponential backoff with full jitter, or after what Retry-After says. A batch
// the API refuses as bad (400) or too large (413) is split in halves until the review at fault is
// alone, so one bad review costs only its own result.
"use strict";

import { ApiError, NOT_UNDERSTOOD, apiUrl, isVerdict, post } from "./api.js";

export const BATCH_REVIEWS = 250; // reviews per request (the endpoint takes up to 1,000)
export const BATCH_BYTES = 1024 * 1024; // JSON bytes per request, well inside the API's 6 MB payload limit
export const IN_FLIGHT = 4; // requests at once
export const MAX_ATTEMPTS = 8; // tries per batch while the API asks to slow down or is busy
const BACKOFF_BASE_MS = 250;
const BACKOFF_CAP_MS = 8000;
const RETRIED = new Set([0, 429, 503, 504]); // 0: no answer (network failure or timeout)
const SPLIT = new Set([400, 413]);
const QUOTA_USED_UP = "Limit Exceeded"; // API Gateway's 429 once a key's quota is spent: waiting will not help

const encoder = new TextEncoder();

/** `reviews` ([{row, text}]) in request-sized batches of indices: at most BATCH_REVIEWS reviews and,
 * unless one review alone is larger, at most BATCH_BYTES of JSON. */
export function batchesOf(reviews) {
  const batches = [];
  let batch = [], bytes = 0;
  reviews.forEach((review, i) => {
    const size = encoder.encode(JSON.stringify(review.text)).length + 1;
    if (batch.length && (batch.length === BATCH_REVIEWS || bytes + size > BATCH_BYTES)) {
      batches.push(batch);
      batch = [];
      bytes = 0;
    }
    batch.push(i);
    bytes += size;
  });
  if (batch.length) batches.push(batch);
  return batches;
}

/** How long to wait before try `attempt` (1-based) of a batch: what the API asked for, else full jitter. */
export function backoffMs(attempt, retryAfterMs) {
  if (retryAfterMs !== null) return retryAfterMs;
  return Math.random() * Math.min(BACKOFF_CAP_MS, BACKOFF_BASE_MS * 2 ** attempt);
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

// One request for the reviews at `indices`: their verdicts, in order, or an ApiError. A review alone
// goes as {"review": ...}, so that the API's message about it speaks of the review, not of instance 0.
async function classify(reviews, indices) {
  const texts = indices.map((i) => reviews[i].text);
  const body = JSON.stringify(texts.length === 1 ? { review: texts[0] } : { instances: texts });
  const answer = await post(apiUrl(), body, "application/json");
  const predictions = texts.length === 1 ? [answer]
    : answer && Array.isArray(answer.predictions) ? answer.predictions : [];
  if (predictions.length !== indices.length || !predictions.every(isVerdict)) throw new ApiError(NOT_UNDERSTOOD);
  return predictions;
}

// A failure that ends the whole run: a refused key, or a quota used up.
function fatal(failure) {
  return failure.status === 403 || (failure.status === 429 && failure.detail === QUOTA_USED_UP);
}

/**
 * Analyses every review; resolves to one result per review, in order: {label, probability} or
 * {error}. `onProgress(done, waitingMs)` is called as batches finish and while waiting to retry.
 * Rejects (after the requests in flight are over) on a failure that dooms every batch.
 */
export async function analyseAll(reviews, onProgress = () => {}) {
  const results = new Array(reviews.length);
  const queue = batchesOf(reviews);
  let done = 0;
  let stop = null;

  async function settle(indices) {
    for (let attempt = 1; ; attempt++) {
      try {
        const predictions = await classify(reviews, indices);
        indices.forEach((index, k) => {
          results[index] = { label: predictions[k].label, probability: predictions[k].probability };
        });
        break;
      } catch (failure) {
        if (!(failure instanceof ApiError)) throw failure;
        if (fatal(failure)) throw failure;
        if (SPLIT.has(failure.status) && indices.length > 1) {
          const half = Math.ceil(indices.length / 2);
          await settle(indices.slice(0, half));
          await settle(indices.slice(half));
          return;
        }
        if (!RETRIED.has(failure.status) || attempt === MAX_ATTEMPTS || stop) {
          for (const index of indices) results[index] = { error: failure.message };
          break;
        }
        const wait = backoffMs(attempt, failure.retryAfterMs);
        onProgress(done, wait);
        await sleep(wait);
      }
    }
    done += indices.length;
    onProgress(done, 0);
  }

  async function worker() {
    while (queue.length && !stop) {
      try {
        await settle(queue.shift());
      } catch (failure) {
        stop = stop || failure;
      }
    }
  }

  await Promise.all(Array.from({ length: IN_FLIGHT }, worker));
  if (stop) throw stop;
  return results;
}
