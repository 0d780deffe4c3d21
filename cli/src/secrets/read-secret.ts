import { TakoError } from "@tako/errors";

/**
 * A secret's value: typed at a hidden prompt on a terminal, or read from stdin (one trailing
 * newline dropped) so `echo "$X" | tako secrets set NAME` works. Never from argv, where it
 * would land in the shell history and in `ps`.
 */
export async function readSecretValue(
  name: string,
  stdin: NodeJS.ReadStream = process.stdin,
): Promise<string> {
  if (stdin.isTTY) return prompt(`Value for ${name} (hidden): `, stdin);
  const chunks: Buffer[] = [];
  for await (const chunk of stdin) chunks.push(Buffer.from(chunk as Buffer));
  const value = Buffer.concat(chunks)
    .toString("utf8")
    .replace(/\r?\n$/, "");
  if (value === "") {
    throw new TakoError("SECRETS_INVALID", `no value for ${name} on stdin`, {
      hint: `Pipe it in: printf %s "$VALUE" | tako secrets set ${name}`,
    });
  }
  return value;
}

function prompt(question: string, stdin: NodeJS.ReadStream): Promise<string> {
  return new Promise((resolve, reject) => {
    process.stderr.write(question);
    let value = "";
    stdin.setRawMode(true);
    stdin.resume();
    const onData = (data: Buffer) => {
      for (const char of data.toString("utf8")) {
        if (char === "\r" || char === "\n") {
          finish();
          if (value === "")
            reject(
              new TakoError("SECRETS_INVALID", "no value entered", {
                hint: "Run the command again and type the value.",
              }),
            );
          else resolve(value);
          return;
        }
        if (char === "\u0003") {
          finish();
          reject(new TakoError("CANCELED", "cancelled", { hint: "Nothing was changed." }));
          return;
        }
        if (char === "\u007f") value = value.slice(0, -1);
        else value += char;
      }
    };
    const finish = () => {
      stdin.off("data", onData);
      stdin.setRawMode(false);
      stdin.pause();
      process.stderr.write("\n");
    };
    stdin.on("data", onData);
  });
}
