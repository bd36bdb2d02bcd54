// Minimal client: one WebSocket, JSON messages {"body": ...} out, {"id", "html"} in.
(function () {
  const scheme = location.protocol === "https:" ? "wss://" : "ws://";
  const socket = new WebSocket(scheme + location.host + "/chatsocket");
  socket.onmessage = function (event) {
    const message = JSON.parse(event.data);
    if (document.getElementById("m" + message.id)) return;
    const node = document.createElement("div");
    node.className = "message";
    node.id = "m" + message.id;
    node.innerHTML = message.html; // escaped by the server
    document.getElementById("inbox").appendChild(node);
  };
  document.getElementById("messageform").addEventListener("submit", function (event) {
    event.preventDefault();
    const input = document.getElementById("message");
    socket.send(JSON.stringify({ body: input.value }));
    input.value = "";
    input.focus();
  });
})();
