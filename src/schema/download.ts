import { prepareDownload } from "../resolvers/objects.js";
import { builder } from "./builder.js";

const DownloadTicket = builder
  .objectRef<{ token: string; url: string; estimatedBytes: number; expiresAt: Date }>("DownloadTicket")
  .implement({
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
builder.mutationField("prepareDownload", (t) =>
  t.field({
    type: DownloadTicket,
    description: "A short-lived signed link that streams an object's verified original (deltas reconstructed)",
    args: {
      bucket: t.arg.string({ required: true, description: "The object's bucket" }),
      key: t.arg.string({ required: true, description: "The object's logical key" }),
    },
    resolve: (_root, args, ctx) => prepareDownload(args.bucket, args.key, ctx),
  }),
);
