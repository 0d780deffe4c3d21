// Configurations of the peers edge-proxy is measured against, generated into a temp dir. Every
// peer terminates TLS with the same ECDSA P-256 certificate, speaks HTTP/1.1 and h2 (ALPN), and
// keeps its upstream connections alive to the same upstream.
import { writeFile } from "node:fs/promises";
import { join } from "node:path";

/** The shared upstream: one nginx worker answering a fixed body (cheap, so peers are measured). */
export async function upstreamConfig(dir, port) {
  const conf = join(dir, "upstream.conf");
  await writeFile(
    conf,
    `worker_processes 1;
pid ${dir}/upstream.pid;
error_log ${dir}/upstream-error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  keepalive_requests 1000000;
  keepalive_timeout 120s;
  client_body_temp_path ${dir}/u-body; proxy_temp_path ${dir}/u-proxy; fastcgi_temp_path ${dir}/u-fcgi;
  uwsgi_temp_path ${dir}/u-uwsgi; scgi_temp_path ${dir}/u-scgi;
  server {
    listen 127.0.0.1:${port};
    location / { default_type text/plain; return 200 "Hello from the shared upstream of the Tako edge benchmark.\\n"; }
  }
}
`,
  );
  return { command: "nginx", args: ["-c", conf, "-g", "daemon off;"] };
}

export async function nginxConfig(dir, port, upstreamPort, tls) {
  const conf = join(dir, "nginx.conf");
  await writeFile(
    conf,
    `worker_processes auto;
pid ${dir}/nginx.pid;
error_log ${dir}/nginx-error.log warn;
events { worker_connections 8192; }
http {
  access_log off;
  keepalive_requests 1000000;
  keepalive_timeout 120s;
  client_body_temp_path ${dir}/n-body; proxy_temp_path ${dir}/n-proxy; fastcgi_temp_path ${dir}/n-fcgi;
  uwsgi_temp_path ${dir}/n-uwsgi; scgi_temp_path ${dir}/n-scgi;
  upstream app { server 127.0.0.1:${upstreamPort}; keepalive 256; }
  ssl_session_cache shared:SSL:10m;
  server {
    listen 127.0.0.1:${port} ssl http2;
    server_name bench.test;
    ssl_certificate ${tls.cert};
    ssl_certificate_key ${tls.key};
    location / {
      proxy_pass http://app;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header Host $host;
      proxy_set_header X-Forwarded-For $remote_addr;
      proxy_set_header X-Forwarded-Proto https;
    }
  }
}
`,
  );
  return { command: "nginx", args: ["-c", conf, "-g", "daemon off;"] };
}

export async function haproxyConfig(dir, port, upstreamPort, tls) {
  const conf = join(dir, "haproxy.cfg");
  await writeFile(
    conf,
    `global
  nbthread 2
  maxconn 8000
  tune.ssl.default-dh-param 2048
defaults
  mode http
  timeout connect 5s
  timeout client 120s
  timeout server 120s
  timeout http-keep-alive 120s
  option http-keep-alive
  http-reuse always
frontend fe
  bind 127.0.0.1:${port} ssl crt ${tls.combined} alpn h2,http/1.1
  option forwardfor
  http-request set-header X-Forwarded-Proto https
  default_backend app
backend app
  server s1 127.0.0.1:${upstreamPort} pool-max-conn 256
`,
  );
  return { command: "haproxy", args: ["-f", conf, "-db"] };
}

export async function caddyConfig(dir, port, upstreamPort, tls) {
  const conf = join(dir, "Caddyfile");
  await writeFile(
    conf,
    `{
  admin off
  auto_https off
  storage file_system ${dir}/caddy-data
}
https://:${port} {
  bind 127.0.0.1
  tls ${tls.cert} ${tls.key}
  reverse_proxy 127.0.0.1:${upstreamPort} {
    transport http {
      keepalive 120s
      keepalive_idle_conns 256
    }
  }
}
`,
  );
  return {
    command: "caddy",
    args: ["run", "--config", conf, "--adapter", "caddyfile"],
    env: { HOME: dir, XDG_DATA_HOME: dir, XDG_CONFIG_HOME: dir },
  };
}

/**
 * The reference peers: a naive http-proxy-3 proxy (one process, or a node:cluster of
 * `processes`), with an upstream keep-alive agent; see naive-proxy.mjs.
 */
export function naiveConfig(port, upstreamPort, tls, processes) {
  return {
    command: process.execPath,
    args: [
      join(import.meta.dirname, "naive-proxy.mjs"),
      "--port",
      String(port),
      "--upstream-port",
      String(upstreamPort),
      "--cert",
      tls.cert,
      "--key",
      tls.key,
      "--processes",
      String(processes),
    ],
  };
}
