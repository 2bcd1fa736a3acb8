// Many reviews in, one result per review out: pasted lines and uploaded files (one review per line,
// or a CSV whose `text` or `review` column holds them) become [{row, text}], and the results become
// a CSV to download. `row` is where the review was in the input (its line, or its CSV record after
// the header, counting from 1), so a result can be found again even though blank ones are skipped.
"use strict";

export const TEXT_COLUMNS = ["text", "review"]; // CSV headers that hold the reviews, in order of preference
const RESULT_COLUMNS = ["row", "review", "label", "probability", "confidence", "error"];

/** One review per line; blank lines are skipped. */
export function reviewsFromLines(text) {
  return text.replace(/^\uFEFF/, "").split(/\r\n|\n|\r/)
    .map((line, i) => ({ row: i + 1, text: line }))
    .filter((review) => review.text.trim());
}

const DELIMITER = /[,\r\n]/g;

// Where the unquoted part of a field ends: the next comma or line break, or the end of the text.
function fieldEnd(text, from) {
  DELIMITER.lastIndex = from;
  return DELIMITER.exec(text)?.index ?? text.length;
}

/** The records of a CSV text (RFC 4180: quoted fields may hold commas, doubled quotes and line
 * breaks). Lenient as spreadsheets are: text after a closing quote stays in the field, and an
 * unclosed quote runs to the end. Scans by slices, not characters, so large files parse quickly. */
export function parseCsv(text) {
  text = text.replace(/^\uFEFF/, "");
  const records = [];
  let record = [];
  let i = 0;
  while (i < text.length) {
    let value = "";
    if (text[i] === '"') {
      let from = i + 1;
      for (;;) {
        const quote = text.indexOf('"', from);
        if (quote === -1) { value += text.slice(from); i = text.length; break; }
        value += text.slice(from, quote);
        if (text[quote + 1] !== '"') { i = quote + 1; break; }
        value += '"';
        from = quote + 2;
      }
    }
    const end = fieldEnd(text, i);
    record.push(value + text.slice(i, end));
    i = end;
    if (text[i] === ",") {
      i += 1;
      if (i === text.length) records.push([...record, ""]); // a trailing comma ends on an empty field
    } else {
      records.push(record);
      record = [];
      i += text.startsWith("\r\n", i) ? 2 : 1;
    }
  }
  return records;
}

/** The reviews of a CSV with a header naming a `text` or `review` column; an Error saying what is
 * missing otherwise. Records with a blank review are skipped. */
export function reviewsFromCsv(text) {
  const [header = [], ...records] = parseCsv(text);
  const names = header.map((name) => name.trim().toLowerCase());
  const wanted = TEXT_COLUMNS.find((name) => names.includes(name));
  if (wanted === undefined) {
    throw new Error("The CSV file needs a column named " + TEXT_COLUMNS.join(" or ") + " in its first line" +
      (header.length ? " (it has: " + header.join(", ") + ")." : "."));
  }
  const column = names.indexOf(wanted);
  return records.map((record, i) => ({ row: i + 1, text: record[column] ?? "" }))
    .filter((review) => review.text.trim());
}

/** The reviews in an uploaded file: a CSV (by its name or type) or one review per line. */
export function reviewsFromFile(name, type, text) {
  const csv = /\.csv$/i.test(name) || type === "text/csv";
  return csv ? reviewsFromCsv(text) : reviewsFromLines(text);
}

function csvField(value) {
  const text = String(value);
  return /[",\r\n]/.test(text) ? '"' + text.replace(/"/g, '""') + '"' : text;
}

/** The results as CSV: per review its row, text, label, probability of positive (the API's),
 * confidence in the verdict, and the error when it could not be analysed. */
export function resultsCsv(reviews, results) {
  const lines = [RESULT_COLUMNS.join(",")];
  reviews.forEach((review, i) => {
    const result = results[i];
    const cells = result.error === undefined
      ? [review.row, review.text, result.label, result.probability, confidence(result).toFixed(6), ""]
      : [review.row, review.text, "", "", "", result.error];
    lines.push(cells.map(csvField).join(","));
  });
  return lines.join("\r\n") + "\r\n";
}

/** How sure the verdict is: the probability of the label it gives. */
export function confidence(result) {
  return result.label === "positive" ? result.probability : 1 - result.probability;
}
