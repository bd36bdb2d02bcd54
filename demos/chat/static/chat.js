// Long-polling chat client: posts messages with fetch() and keeps one
// /a/message/updates request open, re-issuing it after each answer.
"use strict";

function xsrfToken() {
  const match = document.cookie.match(/(?:^|;\s*)_xsrf=([^;]*)/);
  if (match) return decodeURIComponent(match[1]);
  const field = document.querySelector("input[name=_xsrf]");
  return field ? field.value : "";
}

function formBody(fields) {
  const body = new URLSearchParams(fields);
  body.set("_xsrf", xsrfToken());
  return body;
}

let cursor = null;
const seen = new Set();

function show(message) {
  if (seen.has(message.id) || document.getElementById("m" + message.id)) return;
  seen.add(message.id);
  const holder = document.createElement("div");
  holder.innerHTML = message.html;
  document.getElementById("inbox").appendChild(holder.firstElementChild);
}

async function poll() {
  let delay = 0;
  try {
    const fields = cursor ? { cursor: cursor } : {};
    const response = await fetch("/a/message/updates", { method: "POST", body: formBody(fields) });
    if (!response.ok) throw new Error("poll failed: " + response.status);
    const data = await response.json();
    for (const message of data.messages) show(message);
    if (data.messages.length) cursor = data.messages[data.messages.length - 1].id;
  } catch (error) {
    console.log(error);
    delay = 2000; // back off when the server is unreachable
  }
  window.setTimeout(poll, delay);
}

document.addEventListener("DOMContentLoaded", () => {
  const existing = document.querySelectorAll("#inbox .message");
  if (existing.length) cursor = existing[existing.length - 1].id.slice(1);
  document.getElementById("messageform").addEventListener("submit", async (event) => {
    event.preventDefault();
    const input = document.getElementById("message");
    const response = await fetch("/a/message/new", {
      method: "POST",
      body: formBody({ body: input.value }),
    });
    if (response.ok) {
      show(await response.json());
      input.value = "";
      input.select();
    }
  });
  document.getElementById("message").select();
  poll();
});
