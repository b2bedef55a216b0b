/**
 * nginx + Nchan as a peer: one worker, in-memory store, a publisher location and one subscriber
 * location per transport on the same channel. Each subscriber is sent the newest stored message
 * first (`nchan_subscriber_first_message -1`; `newest` would wait for the next one), as Scoreline
 * sends a snapshot, so "connected" means the same thing for both: the first message arrived. The rest is Debian's defaults (listen
 * backlog 511, like Deno.serve).
 */

export const NCHAN_MODULE = "/usr/lib/nginx/modules/ngx_nchan_module.so";

export const NCHAN_PATHS = {
  publish: "/pub",
  sse: "/sse/bench",
  lp: "/lp/bench",
  ndjson: "/stream/bench",
  ws: "/ws/bench",
} as const;

/** nginx.conf for a prefix directory `dir` (logs, pid and temp files stay inside it). */
export function nchanConfig(dir: string, port: number, maxConnections: number): string {
  return `# Written by bench/peers/nchan_conf.ts for one benchmark run.
load_module ${NCHAN_MODULE};
daemon off;
master_process on;
worker_processes 1;
worker_rlimit_nofile ${maxConnections + 100};
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
events {
  worker_connections ${maxConnections};
}
http {
  access_log off;
  client_body_temp_path ${dir}/client_body;
  proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi;
  scgi_temp_path ${dir}/scgi;
  nchan_shared_memory_size 256m;
  server {
    listen 127.0.0.1:${port};
    location = ${NCHAN_PATHS.publish} {
      nchan_publisher http;
      nchan_channel_id $arg_id;
      nchan_message_buffer_length 100;
      nchan_message_timeout 1h;
    }
    location = ${NCHAN_PATHS.sse} {
      nchan_subscriber eventsource;
      nchan_channel_id bench;
      nchan_eventsource_event update;
      nchan_subscriber_first_message -1;
    }
    location = ${NCHAN_PATHS.lp} {
      nchan_subscriber longpoll;
      nchan_channel_id bench;
      nchan_subscriber_first_message -1;
    }
    location = ${NCHAN_PATHS.ndjson} {
      nchan_subscriber http-raw-stream;
      nchan_channel_id bench;
      nchan_subscriber_first_message -1;
    }
    location = ${NCHAN_PATHS.ws} {
      nchan_subscriber websocket;
      nchan_channel_id bench;
      nchan_subscriber_first_message -1;
    }
  }
}
`;
}
