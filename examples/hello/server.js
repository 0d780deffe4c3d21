// A Tako app is a module whose default export handles requests (the fetch API).
export default {
  fetch(request) {
    const url = new URL(request.url);
    return new Response(`${process.env.GREETING ?? "Hello"} (${url.pathname}, pid ${process.pid})\n`, {
      headers: { "content-type": "text/plain; charset=utf-8" },
    });
  },
};
