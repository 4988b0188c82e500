// Auxiliary Worker of the test config: the consumer of the vidsnap-email queue (the real one is the
// email-consumer Worker, not part of this suite). It keeps every message it receives in memory and
// answers them on `GET /messages?videoId=...` (reached through the EMAIL_SINK service binding).
const received = [];

export default {
  async queue(batch) {
    for (const message of batch.messages) {
      received.push(message.body);
      message.ack();
    }
  },
  async fetch(request) {
    const videoId = new URL(request.url).searchParams.get("videoId");
    return Response.json(received.filter((m) => !videoId || (m && m.payload && m.payload.videoId === videoId)));
  },
};
