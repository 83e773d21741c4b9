// Subscribes through the graphql-ws client and prints each result as one JSON line.
// usage: node subscribe.mjs <ws url> <api key> <query>
import { createClient } from "graphql-ws";
import WebSocket from "ws";

const [url, apiKey, query] = process.argv.slice(2);
const client = createClient({
  url,
  webSocketImpl: WebSocket,
  connectionParams: { "X-API-Key": apiKey },
  retryAttempts: 0,
});
client.subscribe(
  { query },
  {
    next: (result) => process.stdout.write(JSON.stringify(result) + "\n"),
    error: (error) => {
      process.stdout.write(JSON.stringify({ clientError: String(error?.message ?? error) }) + "\n");
      process.exit(1);
    },
    complete: () => process.exit(0),
  },
);
