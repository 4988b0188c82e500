// Auxiliary Worker of the test config: the consumer of the vidsnap-email queue (the real one is the
// email-consumer Worker, not part of this suite). It keeps every message it receives in memory and
// answers them on `GET /messages?videoId=...&transcodeId=...` (reached through the EMAIL_SINK service binding).
const received = [];

export default {
  async queue(batch) {
    for (const message of batch.messages) {
      received.push(message.body);
      message.ack();
    }
  },
  async fetch(request) {
    const params = new URL(request.url).searchParams;
    const videoId = params.get("videoId");
    const transcodeId = params.get("transcodeId");
    return Response.json(
      received.filter(
        (m) =>
          m &&
          m.payload &&
          (!videoId || m.payload.videoId === videoId) &&
          (!transcodeId || m.payload.transcodeId === transcodeId),
      ),
    );
  },
};
