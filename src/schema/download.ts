import { prepareDownload } from "../resolvers/objects.js";
import { builder } from "./builder.js";

interface DownloadTicket {
  token: string;
  url: string;
  estimatedBytes: number;
  expiresAt: Date;
}

const DownloadTicketRef = builder.objectRef<DownloadTicket>("DownloadTicket").implement({
  description: "A signed, short-lived download: GET `url` streams the verified original",
  fields: (t) => ({
    token: t.exposeString("token", { description: "The signed download token (also inside `url`)" }),
    url: t.exposeString("url", { description: "The REST download route (relative to this server)" }),
    estimatedBytes: t.field({
      type: "SafeInt",
      description: "The original's size: what the download streams",
      resolve: (d) => d.estimatedBytes,
    }),
    expiresAt: t.field({
      type: "DateTime",
      description: "After this instant `url` answers 401",
      resolve: (d) => d.expiresAt,
    }),
  }),
});

// Mutation#prepareDownload
const PrepareDownloadInput = builder.inputType("PrepareDownloadInput", {
  description: "The object to download",
  fields: (t) => ({
    bucket: t.string({ required: true, description: "The object's bucket" }),
    key: t.string({ required: true, description: "The object's logical key" }),
  }),
});

const PrepareDownloadPayload = builder.objectRef<{ download: DownloadTicket }>("PrepareDownloadPayload").implement({
  description: "The signed download",
  fields: (t) => ({
    download: t.field({
      type: DownloadTicketRef,
      description: "GET its `url` before it expires",
      resolve: (p) => p.download,
    }),
  }),
});

builder.mutationField("prepareDownload", (t) =>
  t.field({
    type: PrepareDownloadPayload,
    description: "A short-lived signed link that streams an object's verified original (deltas reconstructed)",
    args: { input: t.arg({ type: PrepareDownloadInput, required: true, description: "The object" }) },
    resolve: async (_root, { input }, ctx) => ({ download: await prepareDownload(input.bucket, input.key, ctx) }),
  }),
);
