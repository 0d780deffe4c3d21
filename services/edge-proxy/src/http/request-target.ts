/**
 * The host a request is for: the HTTP/2 :authority, else Host; lowercase, without port or
 * trailing dot. Undefined when missing or not a plausible host name (answered 400).
 */
export function hostOf(req: {
  readonly headers: { readonly [name: string]: string | string[] | undefined };
}): string | undefined {
  const raw = req.headers[":authority"] ?? req.headers.host;
  if (typeof raw !== "string" || raw.length === 0 || raw.length > 260) return undefined;
  let end = raw.length;
  if (raw.charCodeAt(0) === 91 /* [ */) {
    const close = raw.indexOf("]");
    if (close === -1) return undefined;
    end = close + 1;
  } else {
    const colon = raw.indexOf(":");
    if (colon !== -1) end = colon;
  }
  if (raw.charCodeAt(end - 1) === 46 /* . */) end--;
  let host = raw.slice(0, end);
  for (let i = 0; i < host.length; i++) {
    const c = host.charCodeAt(i);
    const ok =
      (c >= 97 && c <= 122) ||
      (c >= 48 && c <= 57) ||
      c === 45 ||
      c === 46 ||
      c === 91 ||
      c === 93 ||
      c === 58;
    if (ok) continue;
    if (c >= 65 && c <= 90) {
      host = host.toLowerCase();
      continue;
    }
    return undefined;
  }
  return host.length === 0 ? undefined : host;
}

/** The path of a request target, without the query. */
export function pathOf(url: string | undefined): string {
  if (!url) return "/";
  const q = url.indexOf("?");
  return q === -1 ? url : url.slice(0, q);
}
