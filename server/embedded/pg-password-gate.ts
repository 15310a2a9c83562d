import crypto from "node:crypto";
import type net from "node:net";

/**
 * Password check for the embedded database's TCP port. pglite-socket answers the Postgres
 * start-up message itself and accepts any user without a password (PGlite has no
 * authentication), so every local process could connect as superuser. This gate runs the
 * start-up exchange first: it asks for an MD5 password (AuthenticationMD5Password, which `pg`
 * and Prisma's driver adapter answer), checks it against the generated password kept in
 * OMEN_DATA_DIR, and only then hands the connection, start-up message included, to
 * pglite-socket, whose own answer (AuthenticationOk, parameters, ReadyForQuery) completes the
 * handshake. A wrong password gets SQLSTATE 28P01 and the connection is closed.
 */
const SSL_REQUEST = 80877103;
const GSS_REQUEST = 80877104;
const PROTOCOL_3 = 196608;
const MAX_STARTUP = 10_000;

function md5(s: Buffer | string): string {
  return crypto.createHash("md5").update(s).digest("hex");
}

/** What a client sends for `password` as `user` with `salt` (Postgres' md5 method). */
export function md5Response(user: string, password: string, salt: Buffer): string {
  return "md5" + md5(Buffer.concat([Buffer.from(md5(password + user)), salt]));
}

function errorResponse(code: string, message: string): Buffer {
  const fields = Buffer.concat([Buffer.from(`SFATAL\0VFATAL\0C${code}\0M${message}\0`), Buffer.from([0])]);
  const head = Buffer.alloc(5);
  head.write("E", 0);
  head.writeInt32BE(fields.length + 4, 1);
  return Buffer.concat([head, fields]);
}

function startupParams(msg: Buffer): Map<string, string> {
  const parts = msg.subarray(8).toString("utf8").split("\0");
  const out = new Map<string, string>();
  for (let i = 0; i + 1 < parts.length; i += 2) if (parts[i]) out.set(parts[i]!, parts[i + 1]!);
  return out;
}

/**
 * Runs the password exchange on `socket`; resolves with the start-up message to replay to
 * pglite-socket, or null when the client was refused (the socket is then closed).
 */
export function authenticate(socket: net.Socket, password: string, timeoutMs = 10_000): Promise<Buffer | null> {
  return new Promise((resolve) => {
    let buf = Buffer.alloc(0);
    let startup: Buffer | null = null;
    let user = "";
    const salt = crypto.randomBytes(4);
    const finish = (result: Buffer | null, error?: Buffer) => {
      clearTimeout(timer);
      socket.off("data", onData);
      socket.pause();
      // a refused client may keep its side open: close ours fully, or stopping the server waits for it
      if (error) socket.end(error, () => socket.destroy());
      else if (!result) socket.destroy();
      resolve(result);
    };
    const timer = setTimeout(() => finish(null), timeoutMs);
    const onData = (chunk: Buffer) => {
      buf = Buffer.concat([buf, chunk]);
      for (;;) {
        if (!startup) {
          if (buf.length < 8) return;
          const len = buf.readInt32BE(0);
          if (len < 8 || len > MAX_STARTUP) return finish(null, errorResponse("08P01", "invalid start-up packet"));
          if (buf.length < len) return;
          const code = buf.readInt32BE(4);
          const msg = buf.subarray(0, len);
          buf = buf.subarray(len);
          if (code === SSL_REQUEST || code === GSS_REQUEST) {
            socket.write("N");
            continue;
          }
          if (code !== PROTOCOL_3) return finish(null, errorResponse("08P01", "unsupported protocol"));
          startup = Buffer.from(msg);
          user = startupParams(startup).get("user") ?? "";
          const req = Buffer.alloc(13);
          req.write("R", 0);
          req.writeInt32BE(12, 1);
          req.writeInt32BE(5, 5);
          salt.copy(req, 9);
          socket.write(req);
          continue;
        }
        if (buf.length < 5) return;
        const len = buf.readInt32BE(1);
        if (buf[0] !== 0x70 || len < 4 || len > MAX_STARTUP) return finish(null, errorResponse("08P01", "expected a password message"));
        if (buf.length < 1 + len) return;
        const given = buf.subarray(5, 1 + len).toString("utf8").replace(/\0$/, "");
        const expected = md5Response(user, password, salt);
        const ok = given.length === expected.length && crypto.timingSafeEqual(Buffer.from(given), Buffer.from(expected));
        if (!ok) return finish(null, errorResponse("28P01", `password authentication failed for user "${user.slice(0, 60)}"`));
        return finish(startup);
      }
    };
    socket.on("data", onData);
    socket.once("error", () => finish(null));
  });
}
