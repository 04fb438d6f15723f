import { prepareDownload } from "../resolvers/objects.js";
import { builder } from "./builder.js";

const DownloadTicket = builder
  .objectRef<{ token: string; url: string; estimatedBytes: number; expiresAt: Date }>("DownloadTicket")
  .implement({
    description: "A signed, short-lived download: GET `url` streams the verified original",
    fields: (t) => ({
      token: t.exposeString("token"),
      url: t.exposeString("url", { description: "The REST download route (relative to this server)" }),
      estimatedBytes: t.field({ type: "SafeInt", resolve: (d) => d.estimatedBytes }),
      expiresAt: t.field({ type: "DateTime", resolve: (d) => d.expiresAt }),
    }),
  });

// Mutation#prepareDownload
builder.mutationField("prepareDownload", (t) =>
  t.field({
    type: DownloadTicket,
    args: { bucket: t.arg.string({ required: true }), key: t.arg.string({ required: true }) },
    resolve: (_root, args, ctx) => prepareDownload(args.bucket, args.key, ctx),
  }),
);
