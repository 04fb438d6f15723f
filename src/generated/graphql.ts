import type { TypedDocumentNode as DocumentNode } from '@graphql-typed-document-node/core';
export type Maybe<T> = T | null;
export type InputMaybe<T> = Maybe<T>;
export type Exact<T extends { [key: string]: unknown }> = { [K in keyof T]: T[K] };
export type MakeOptional<T, K extends keyof T> = Omit<T, K> & { [SubKey in K]?: Maybe<T[SubKey]> };
export type MakeMaybe<T, K extends keyof T> = Omit<T, K> & { [SubKey in K]: Maybe<T[SubKey]> };
export type MakeEmpty<T extends { [key: string]: unknown }, K extends keyof T> = { [_ in K]?: never };
export type Incremental<T> = T | { [P in keyof T]?: P extends ' $fragmentName' | '__typename' ? T[P] : never };
/** All built-in and custom scalars, mapped to their actual values */
export type Scalars = {
  ID: { input: string; output: string; }
  String: { input: string; output: string; }
  Boolean: { input: boolean; output: boolean; }
  Int: { input: number; output: number; }
  Float: { input: number; output: number; }
  /** A date-time string at UTC, such as 2007-12-03T10:15:30Z, compliant with the `date-time` format outlined in section 5.6 of the RFC 3339 profile of the ISO 8601 standard for representation of dates and times using the Gregorian calendar. */
  DateTime: { input: string; output: string; }
  /** The `SafeInt` scalar type represents non-fractional signed whole numeric values that are considered safe as defined by the ECMAScript specification. */
  SafeInt: { input: number; output: number; }
};

/** A bucket with its savings figures (null until computed) */
export type Bucket = Node & {
  __typename?: 'Bucket';
  /** When the savings figures were computed */
  computedAt: Maybe<Scalars['DateTime']['output']>;
  id: Scalars['ID']['output'];
  /** The bucket's name in the object store */
  name: Scalars['String']['output'];
  /** Logical objects in the bucket at the last savings scan */
  objectCount: Maybe<Scalars['SafeInt']['output']>;
  /** One folder (`/` delimiter semantics); every page carries all child folders */
  objects: ObjectConnection;
  /** Sum of the objects' original sizes at the last savings scan */
  originalBytes: Maybe<Scalars['SafeInt']['output']>;
  /** A savings job is running */
  pending: Scalars['Boolean']['output'];
  /** Percentage of original bytes not stored (0–100) */
  savingsPct: Maybe<Scalars['Float']['output']>;
  /** Every physical byte, each reference once */
  storedBytes: Maybe<Scalars['SafeInt']['output']>;
};


/** A bucket with its savings figures (null until computed) */
export type BucketObjectsArgs = {
  after?: InputMaybe<Scalars['String']['input']>;
  compressed?: InputMaybe<Scalars['Boolean']['input']>;
  first?: InputMaybe<Scalars['Int']['input']>;
  prefix?: InputMaybe<Scalars['String']['input']>;
  search?: InputMaybe<Scalars['String']['input']>;
  sort?: InputMaybe<ObjectSort>;
};

/** POST the ciphertext (application/octet-stream, with the sender token) to Glider's byte route */
export type ByteUpload = {
  __typename?: 'ByteUpload';
  /** The REST byte route (relative to this server) */
  url: Scalars['String']['output'];
};

/** The transfer whose upload is complete */
export type CompleteTransferInput = {
  /** The transfer's global id */
  id: Scalars['ID']['input'];
};

/** The completed transfer */
export type CompleteTransferPayload = {
  __typename?: 'CompleteTransferPayload';
  /** The transfer */
  transfer: Transfer;
};

/** The completed transfer, or why it is not complete */
export type CompleteTransferResult = CompleteTransferPayload | DomainError;

/** The bucket to scan */
export type ComputeSavingsInput = {
  /** The bucket to scan */
  bucket: Scalars['String']['input'];
};

/** The scan started or joined */
export type ComputeSavingsPayload = {
  __typename?: 'ComputeSavingsPayload';
  /** Follow it with `savingsProgress` */
  job: SavingsJob;
};

/** A new sender token's label and limits */
export type CreateTokenInput = {
  /** Lifetime; absent = never expires */
  expiresInSeconds?: InputMaybe<Scalars['Int']['input']>;
  /** A name for the token */
  label: Scalars['String']['input'];
  /** Bytes its transfers may declare in total; 0 or absent = unlimited */
  maxBytes?: InputMaybe<Scalars['SafeInt']['input']>;
  /** Transfers it may create; 0 or absent = unlimited */
  maxTransfers?: InputMaybe<Scalars['Int']['input']>;
};

/** The new token and its secret */
export type CreateTokenPayload = {
  __typename?: 'CreateTokenPayload';
  /** The bearer secret; not retrievable later */
  secret: Scalars['String']['output'];
  /** The new token */
  token: Token;
};

/** The new token, or why not */
export type CreateTokenResult = CreateTokenPayload | DomainError;

/** A new transfer's declared size and limits */
export type CreateTransferInput = {
  /** Media type of the ciphertext; application/octet-stream when absent */
  contentType?: InputMaybe<Scalars['String']['input']>;
  /** SHA-256 (hex) of the secret that later deletes the transfer */
  deleteAuthHash?: InputMaybe<Scalars['String']['input']>;
  /** Lifetime; the server's default when absent */
  expiresInSeconds?: InputMaybe<Scalars['Int']['input']>;
  /** 0 = unlimited; default 1 */
  maxDownloads?: InputMaybe<Scalars['Int']['input']>;
  /** Ciphertext bytes the sender will upload */
  size: Scalars['SafeInt']['input'];
};

/** The new transfer and where to upload its ciphertext */
export type CreateTransferPayload = {
  __typename?: 'CreateTransferPayload';
  /** The new transfer, pending upload */
  transfer: Transfer;
  /** Where to upload the ciphertext */
  upload: UploadInstructions;
};

/** The new transfer, or why not */
export type CreateTransferResult = CreateTransferPayload | DomainError;

/** The object to delete */
export type DeleteObjectInput = {
  /** The object's bucket */
  bucket: Scalars['String']['input'];
  /** The object's logical key */
  key: Scalars['String']['input'];
};

/** The object deleted */
export type DeleteObjectPayload = {
  __typename?: 'DeleteObjectPayload';
  /** The deleted StoredObject's global id (drop it from client caches) */
  deletedId: Scalars['ID']['output'];
};

/** The transfer to delete and the secret that allows it */
export type DeleteTransferInput = {
  /** The delete secret (not its hash) */
  deleteAuth: Scalars['String']['input'];
  /** The transfer's global id */
  id: Scalars['ID']['input'];
};

/** The deleted transfer (status DELETED) */
export type DeleteTransferPayload = {
  __typename?: 'DeleteTransferPayload';
  /** The transfer */
  transfer: Transfer;
};

/** The deleted transfer, or why it was not deleted */
export type DeleteTransferResult = DeleteTransferPayload | DomainError;

/** A domain failure (wrong secret, unknown or gone transfer, …) with REST's error code */
export type DomainError = Error & {
  __typename?: 'DomainError';
  /** The stable error code, as REST's `error.code` */
  code: Scalars['String']['output'];
  /** What went wrong, for people */
  message: Scalars['String']['output'];
};

/** A signed, short-lived download: GET `url` streams the verified original */
export type DownloadTicket = {
  __typename?: 'DownloadTicket';
  /** The original's size: what the download streams */
  estimatedBytes: Scalars['SafeInt']['output'];
  /** After this instant `url` answers 401 */
  expiresAt: Scalars['DateTime']['output'];
  /** The signed download token (also inside `url`) */
  token: Scalars['String']['output'];
  /** The REST download route (relative to this server) */
  url: Scalars['String']['output'];
};

/** An expected failure, returned as data */
export type Error = {
  /** The stable error code, as REST's `error.code` */
  code: Scalars['String']['output'];
  /** What went wrong, for people */
  message: Scalars['String']['output'];
};

/** Liveness and readiness of this Glider instance */
export type Health = {
  __typename?: 'Health';
  /** The object store answers */
  ready: Scalars['Boolean']['output'];
  /** Always `ok` when this instance answers */
  status: Scalars['String']['output'];
  /** The object store in use: `s3`, `fs` or `memory` */
  storageBackend: Scalars['String']['output'];
};

export type JobState =
  | 'CANCELLED'
  | 'DONE'
  | 'FAILED'
  | 'IDLE'
  | 'RUNNING';

export type Mutation = {
  __typename?: 'Mutation';
  /** Marks an uploaded transfer complete, so it can be downloaded (the sender token that created it) */
  completeTransfer: CompleteTransferResult;
  /** Starts (or joins) the scan that computes a bucket's savings; follow it with `savingsProgress` */
  computeSavings: ComputeSavingsPayload;
  /** Issues a sender token (admin); its secret is returned once */
  createToken: CreateTokenResult;
  /** Creates a transfer for the caller's sender token (bearer); upload the ciphertext next */
  createTransfer: CreateTransferResult;
  /** Deletes an object */
  deleteObject: DeleteObjectPayload;
  /** Deletes a transfer and its payload, with the secret whose hash was given at creation */
  deleteTransfer: DeleteTransferResult;
  /** A short-lived signed link that streams an object's verified original (deltas reconstructed) */
  prepareDownload: PrepareDownloadPayload;
  /** Revokes a sender token (admin): it creates no more transfers */
  revokeToken: RevokeTokenResult;
};


export type MutationCompleteTransferArgs = {
  input: CompleteTransferInput;
};


export type MutationComputeSavingsArgs = {
  input: ComputeSavingsInput;
};


export type MutationCreateTokenArgs = {
  input: CreateTokenInput;
};


export type MutationCreateTransferArgs = {
  input: CreateTransferInput;
};


export type MutationDeleteObjectArgs = {
  input: DeleteObjectInput;
};


export type MutationDeleteTransferArgs = {
  input: DeleteTransferInput;
};


export type MutationPrepareDownloadArgs = {
  input: PrepareDownloadInput;
};


export type MutationRevokeTokenArgs = {
  input: RevokeTokenInput;
};

export type Node = {
  id: Scalars['ID']['output'];
};

/** A page of one folder: its objects, all its child folders and the folder's total */
export type ObjectConnection = {
  __typename?: 'ObjectConnection';
  /** Every child folder of the prefix, sorted, on every page */
  commonPrefixes: Array<Scalars['String']['output']>;
  edges: Array<ObjectConnectionEdge>;
  pageInfo: PageInfo;
  /** Entries in the folder (objects and child folders) matching the filters */
  totalCount: Scalars['SafeInt']['output'];
};

export type ObjectConnectionEdge = {
  __typename?: 'ObjectConnectionEdge';
  cursor: Scalars['String']['output'];
  node: StoredObject;
};

/** Listing order; ties are broken by key */
export type ObjectSort =
  | 'MODIFIED_ASC'
  | 'MODIFIED_DESC'
  | 'NAME_ASC'
  | 'NAME_DESC'
  | 'SAVINGS_PCT_ASC'
  | 'SAVINGS_PCT_DESC'
  | 'SIZE_ASC'
  | 'SIZE_DESC';

export type PageInfo = {
  __typename?: 'PageInfo';
  endCursor: Maybe<Scalars['String']['output']>;
  hasNextPage: Scalars['Boolean']['output'];
  hasPreviousPage: Scalars['Boolean']['output'];
  startCursor: Maybe<Scalars['String']['output']>;
};

/** How the ciphertext travels: a presigned S3 URL or Glider's byte routes */
export type PayloadMode =
  | 'BYTES'
  | 'PRESIGNED';

/** The object to download */
export type PrepareDownloadInput = {
  /** The object's bucket */
  bucket: Scalars['String']['input'];
  /** The object's logical key */
  key: Scalars['String']['input'];
};

/** The signed download */
export type PrepareDownloadPayload = {
  __typename?: 'PrepareDownloadPayload';
  /** GET its `url` before it expires */
  download: DownloadTicket;
};

/** Upload the ciphertext straight to the object store with this presigned request */
export type PresignedUpload = {
  __typename?: 'PresignedUpload';
  /** After this instant `url` is refused */
  expiresAt: Scalars['DateTime']['output'];
  /** HTTP method for `url` */
  method: Scalars['String']['output'];
  /** The presigned upload URL */
  url: Scalars['String']['output'];
};

export type Query = {
  __typename?: 'Query';
  /** One bucket by name; null when it does not exist or is hidden */
  bucket: Maybe<Bucket>;
  /** Every visible bucket (Glider's own system bucket is hidden) */
  buckets: Array<Bucket>;
  /** Liveness and readiness of this instance; no credentials needed */
  health: Health;
  /** Any object by its global id (Bucket, StoredObject, Transfer, Token); null when it does not exist */
  node: Maybe<Node>;
  /** Several objects by global id, in the order asked; null entries for ids that resolve to nothing */
  nodes: Array<Maybe<Node>>;
  /** One object by bucket and key; null when it does not exist */
  object: Maybe<StoredObject>;
  /** Send's totals (admin) */
  stats: SendStats;
  /** Every sender token (admin) */
  tokens: QueryTokensConnection;
  /** A transfer's public status, as REST's status route (no credentials); null when it does not exist */
  transfer: Maybe<Transfer>;
  /** Every transfer (admin) */
  transfers: QueryTransfersConnection;
};


export type QueryBucketArgs = {
  name: Scalars['String']['input'];
};


export type QueryNodeArgs = {
  id: Scalars['ID']['input'];
};


export type QueryNodesArgs = {
  ids: Array<Scalars['ID']['input']>;
};


export type QueryObjectArgs = {
  bucket: Scalars['String']['input'];
  key: Scalars['String']['input'];
};


export type QueryTokensArgs = {
  after?: InputMaybe<Scalars['String']['input']>;
  before?: InputMaybe<Scalars['String']['input']>;
  first?: InputMaybe<Scalars['Int']['input']>;
  last?: InputMaybe<Scalars['Int']['input']>;
};


export type QueryTransferArgs = {
  id: Scalars['ID']['input'];
};


export type QueryTransfersArgs = {
  after?: InputMaybe<Scalars['String']['input']>;
  before?: InputMaybe<Scalars['String']['input']>;
  first?: InputMaybe<Scalars['Int']['input']>;
  last?: InputMaybe<Scalars['Int']['input']>;
};

export type QueryTokensConnection = {
  __typename?: 'QueryTokensConnection';
  edges: Array<QueryTokensConnectionEdge>;
  pageInfo: PageInfo;
};

export type QueryTokensConnectionEdge = {
  __typename?: 'QueryTokensConnectionEdge';
  cursor: Scalars['String']['output'];
  node: Token;
};

export type QueryTransfersConnection = {
  __typename?: 'QueryTransfersConnection';
  edges: Array<QueryTransfersConnectionEdge>;
  pageInfo: PageInfo;
};

export type QueryTransfersConnectionEdge = {
  __typename?: 'QueryTransfersConnectionEdge';
  cursor: Scalars['String']['output'];
  node: Transfer;
};

/** The token to revoke */
export type RevokeTokenInput = {
  /** The token's global id */
  id: Scalars['ID']['input'];
};

/** The revoked token */
export type RevokeTokenPayload = {
  __typename?: 'RevokeTokenPayload';
  /** The token (state REVOKED) */
  token: Token;
};

/** The revoked token, or why not */
export type RevokeTokenResult = DomainError | RevokeTokenPayload;

/** A bucket's savings scan, started or joined */
export type SavingsJob = {
  __typename?: 'SavingsJob';
  /** The bucket scanned */
  bucket: Scalars['String']['output'];
  /** The job's state when the mutation answered */
  state: JobState;
  /** The job's id; concurrent starts for one bucket share it */
  taskId: Scalars['String']['output'];
};

/** Live progress of a bucket's savings scan. A subscription first gets the bucket's current state (the running job, or IDLE with the last result), then progress, then one DONE, FAILED or CANCELLED */
export type SavingsProgress = {
  __typename?: 'SavingsProgress';
  bucket: Scalars['String']['output'];
  computedAt: Maybe<Scalars['DateTime']['output']>;
  /** Why a FAILED job failed (an error code) */
  errorCode: Maybe<Scalars['String']['output']>;
  objectCount: Scalars['SafeInt']['output'];
  originalBytes: Scalars['SafeInt']['output'];
  savingsPct: Scalars['Float']['output'];
  /** Objects scanned so far by this job */
  scannedObjects: Scalars['SafeInt']['output'];
  state: JobState;
  storedBytes: Scalars['SafeInt']['output'];
  taskId: Scalars['String']['output'];
};

/** Send's totals, as REST's admin stats route */
export type SendStats = {
  __typename?: 'SendStats';
  /** Transfers per status, every status listed (zero counts included) */
  byStatus: Array<TransferStatusCount>;
  /** Ciphertext bytes currently stored */
  bytesStored: Scalars['SafeInt']['output'];
  /** Finished downloads */
  downloads: Scalars['SafeInt']['output'];
  /** Downloads streaming now */
  downloadsInProgress: Scalars['SafeInt']['output'];
  /** When these figures were read */
  generatedAt: Scalars['DateTime']['output'];
  /** Sender tokens on record */
  tokens: Scalars['SafeInt']['output'];
  /** Transfers on record */
  transfers: Scalars['SafeInt']['output'];
};

/** A logical object: what users see, whether stored as a delta or directly */
export type StoredObject = Node & {
  __typename?: 'StoredObject';
  /** Whether downloads honour Range requests (never, yet) */
  acceptRanges: Scalars['Boolean']['output'];
  /** The bucket holding the object */
  bucket: Scalars['String']['output'];
  /** Stored as a delta */
  compressed: Scalars['Boolean']['output'];
  id: Scalars['ID']['output'];
  /** The logical key (without DeltaGlider's `.delta` suffix) */
  key: Scalars['String']['output'];
  /** Last modified, as the store reports it */
  modified: Scalars['DateTime']['output'];
  /** Last segment of the key */
  name: Scalars['String']['output'];
  /** Size of the original file */
  originalBytes: Scalars['SafeInt']['output'];
  /** Percentage of original bytes not stored (0–100) */
  savingsPct: Scalars['Float']['output'];
  /** SHA-256 (hex) of the original, when recorded at upload */
  sha256: Maybe<Scalars['String']['output']>;
  /** Bytes of the object's own physical object; the shared reference is never attributed */
  storedBytes: Scalars['SafeInt']['output'];
};

export type Subscription = {
  __typename?: 'Subscription';
  /** A bucket's savings progress: its current state first, then progress, then one terminal event */
  savingsProgress: SavingsProgress;
};


export type SubscriptionSavingsProgressArgs = {
  bucket: Scalars['String']['input'];
};

/** A sender token (admin only); its secret is shown once, at creation */
export type Token = Node & {
  __typename?: 'Token';
  /** Bytes declared by its transfers */
  bytesUsed: Scalars['SafeInt']['output'];
  createdAt: Scalars['DateTime']['output'];
  /** Null when it never expires */
  expiresAt: Maybe<Scalars['DateTime']['output']>;
  id: Scalars['ID']['output'];
  /** The admin's name for the token */
  label: Scalars['String']['output'];
  lastUsedAt: Maybe<Scalars['DateTime']['output']>;
  /** 0 = unlimited */
  maxBytes: Scalars['SafeInt']['output'];
  /** 0 = unlimited */
  maxTransfers: Scalars['Int']['output'];
  revokedAt: Maybe<Scalars['DateTime']['output']>;
  /** Whether it can still create transfers */
  state: TokenState;
  /** Transfers created with it */
  transfersUsed: Scalars['Int']['output'];
};

/** Whether a sender token can still create transfers */
export type TokenState =
  | 'ACTIVE'
  | 'EXHAUSTED'
  | 'EXPIRED'
  | 'REVOKED';

/** A client-encrypted Send transfer; Glider stores opaque bytes and never sees keys */
export type Transfer = Node & {
  __typename?: 'Transfer';
  /** When the upload was completed */
  completedAt: Maybe<Scalars['DateTime']['output']>;
  /** The media type the sender declared */
  contentType: Scalars['String']['output'];
  createdAt: Scalars['DateTime']['output'];
  /** A delete secret was set at creation */
  deletable: Scalars['Boolean']['output'];
  /** Finished downloads so far */
  downloads: Scalars['Int']['output'];
  /** Null when unlimited */
  downloadsRemaining: Maybe<Scalars['Int']['output']>;
  /** After this instant the transfer is expired and its payload swept */
  expiresAt: Scalars['DateTime']['output'];
  id: Scalars['ID']['output'];
  /** 0 = unlimited */
  maxDownloads: Scalars['Int']['output'];
  /** How the ciphertext is uploaded and downloaded */
  mode: PayloadMode;
  /** Ciphertext bytes, as declared at creation */
  size: Scalars['SafeInt']['output'];
  /** Where the transfer is in its life */
  status: TransferStatus;
  /**
   * The REST id, for the byte routes and share links (`/api/transfers/id/{transferId}/…`)
   * @deprecated GraphQL arguments take the global `id`; only REST routes need this one
   */
  transferId: Scalars['String']['output'];
  updatedAt: Scalars['DateTime']['output'];
};

/** Where a transfer is in its life */
export type TransferStatus =
  | 'COMPLETED'
  | 'DELETED'
  | 'EXHAUSTED'
  | 'EXPIRED'
  | 'PENDING'
  | 'UPLOADED';

/** How many transfers are in one status */
export type TransferStatusCount = {
  __typename?: 'TransferStatusCount';
  /** Transfers in it */
  count: Scalars['SafeInt']['output'];
  /** The status */
  status: TransferStatus;
};

/** Where the sender puts the ciphertext: a presigned PUT, or the byte route */
export type UploadInstructions = ByteUpload | PresignedUpload;

export type BucketsQueryVariables = Exact<{ [key: string]: never; }>;


export type BucketsQuery = { __typename?: 'Query', buckets: Array<{ __typename?: 'Bucket', id: string, name: string, objectCount: number | null, originalBytes: number | null, storedBytes: number | null, savingsPct: number | null, pending: boolean, computedAt: string | null }> };

export type FolderQueryVariables = Exact<{
  bucket: Scalars['String']['input'];
  prefix?: InputMaybe<Scalars['String']['input']>;
  first?: InputMaybe<Scalars['Int']['input']>;
  after?: InputMaybe<Scalars['String']['input']>;
  sort?: InputMaybe<ObjectSort>;
  compressed?: InputMaybe<Scalars['Boolean']['input']>;
  search?: InputMaybe<Scalars['String']['input']>;
}>;


export type FolderQuery = { __typename?: 'Query', bucket: { __typename?: 'Bucket', id: string, name: string, objects: { __typename?: 'ObjectConnection', commonPrefixes: Array<string>, totalCount: number, pageInfo: { __typename?: 'PageInfo', hasNextPage: boolean, endCursor: string | null }, edges: Array<{ __typename?: 'ObjectConnectionEdge', cursor: string, node: { __typename?: 'StoredObject', id: string, bucket: string, key: string, name: string, originalBytes: number, storedBytes: number, compressed: boolean, savingsPct: number, modified: string, acceptRanges: boolean } }> } } | null };

export type StoredObjectQueryVariables = Exact<{
  bucket: Scalars['String']['input'];
  key: Scalars['String']['input'];
}>;


export type StoredObjectQuery = { __typename?: 'Query', object: { __typename?: 'StoredObject', sha256: string | null, id: string, bucket: string, key: string, name: string, originalBytes: number, storedBytes: number, compressed: boolean, savingsPct: number, modified: string, acceptRanges: boolean } | null };

export type NodeQueryVariables = Exact<{
  id: Scalars['ID']['input'];
}>;


export type NodeQuery = { __typename?: 'Query', node:
    | { __typename: 'Bucket', name: string, id: string }
    | { __typename: 'StoredObject', bucket: string, key: string, id: string }
    | { __typename: 'Token', id: string }
    | { __typename: 'Transfer', id: string }
   | null };

export type ObjectFieldsFragment = { __typename?: 'StoredObject', id: string, bucket: string, key: string, name: string, originalBytes: number, storedBytes: number, compressed: boolean, savingsPct: number, modified: string, acceptRanges: boolean };

export type ComputeSavingsMutationVariables = Exact<{
  bucket: Scalars['String']['input'];
}>;


export type ComputeSavingsMutation = { __typename?: 'Mutation', computeSavings: { __typename?: 'ComputeSavingsPayload', job: { __typename?: 'SavingsJob', taskId: string, bucket: string, state: JobState } } };

export type PrepareDownloadMutationVariables = Exact<{
  bucket: Scalars['String']['input'];
  key: Scalars['String']['input'];
}>;


export type PrepareDownloadMutation = { __typename?: 'Mutation', prepareDownload: { __typename?: 'PrepareDownloadPayload', download: { __typename?: 'DownloadTicket', token: string, url: string, estimatedBytes: number, expiresAt: string } } };

export type DeleteObjectMutationVariables = Exact<{
  bucket: Scalars['String']['input'];
  key: Scalars['String']['input'];
}>;


export type DeleteObjectMutation = { __typename?: 'Mutation', deleteObject: { __typename?: 'DeleteObjectPayload', deletedId: string } };

export type SavingsProgressSubscriptionVariables = Exact<{
  bucket: Scalars['String']['input'];
}>;


export type SavingsProgressSubscription = { __typename?: 'Subscription', savingsProgress: { __typename?: 'SavingsProgress', taskId: string, bucket: string, state: JobState, scannedObjects: number, objectCount: number, originalBytes: number, storedBytes: number, savingsPct: number, errorCode: string | null } };

export const ObjectFieldsFragmentDoc = {"kind":"Document","definitions":[{"kind":"FragmentDefinition","name":{"kind":"Name","value":"ObjectFields"},"typeCondition":{"kind":"NamedType","name":{"kind":"Name","value":"StoredObject"}},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"id"}},{"kind":"Field","name":{"kind":"Name","value":"bucket"}},{"kind":"Field","name":{"kind":"Name","value":"key"}},{"kind":"Field","name":{"kind":"Name","value":"name"}},{"kind":"Field","name":{"kind":"Name","value":"originalBytes"}},{"kind":"Field","name":{"kind":"Name","value":"storedBytes"}},{"kind":"Field","name":{"kind":"Name","value":"compressed"}},{"kind":"Field","name":{"kind":"Name","value":"savingsPct"}},{"kind":"Field","name":{"kind":"Name","value":"modified"}},{"kind":"Field","name":{"kind":"Name","value":"acceptRanges"}}]}}]} as unknown as DocumentNode<ObjectFieldsFragment, unknown>;
export const BucketsDocument = {"kind":"Document","definitions":[{"kind":"OperationDefinition","operation":"query","name":{"kind":"Name","value":"Buckets"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"buckets"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"id"}},{"kind":"Field","name":{"kind":"Name","value":"name"}},{"kind":"Field","name":{"kind":"Name","value":"objectCount"}},{"kind":"Field","name":{"kind":"Name","value":"originalBytes"}},{"kind":"Field","name":{"kind":"Name","value":"storedBytes"}},{"kind":"Field","name":{"kind":"Name","value":"savingsPct"}},{"kind":"Field","name":{"kind":"Name","value":"pending"}},{"kind":"Field","name":{"kind":"Name","value":"computedAt"}}]}}]}}]} as unknown as DocumentNode<BucketsQuery, BucketsQueryVariables>;
export const FolderDocument = {"kind":"Document","definitions":[{"kind":"OperationDefinition","operation":"query","name":{"kind":"Name","value":"Folder"},"variableDefinitions":[{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"bucket"}},"type":{"kind":"NonNullType","type":{"kind":"NamedType","name":{"kind":"Name","value":"String"}}}},{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"prefix"}},"type":{"kind":"NamedType","name":{"kind":"Name","value":"String"}}},{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"first"}},"type":{"kind":"NamedType","name":{"kind":"Name","value":"Int"}}},{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"after"}},"type":{"kind":"NamedType","name":{"kind":"Name","value":"String"}}},{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"sort"}},"type":{"kind":"NamedType","name":{"kind":"Name","value":"ObjectSort"}}},{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"compressed"}},"type":{"kind":"NamedType","name":{"kind":"Name","value":"Boolean"}}},{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"search"}},"type":{"kind":"NamedType","name":{"kind":"Name","value":"String"}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"bucket"},"arguments":[{"kind":"Argument","name":{"kind":"Name","value":"name"},"value":{"kind":"Variable","name":{"kind":"Name","value":"bucket"}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"id"}},{"kind":"Field","name":{"kind":"Name","value":"name"}},{"kind":"Field","name":{"kind":"Name","value":"objects"},"arguments":[{"kind":"Argument","name":{"kind":"Name","value":"prefix"},"value":{"kind":"Variable","name":{"kind":"Name","value":"prefix"}}},{"kind":"Argument","name":{"kind":"Name","value":"first"},"value":{"kind":"Variable","name":{"kind":"Name","value":"first"}}},{"kind":"Argument","name":{"kind":"Name","value":"after"},"value":{"kind":"Variable","name":{"kind":"Name","value":"after"}}},{"kind":"Argument","name":{"kind":"Name","value":"sort"},"value":{"kind":"Variable","name":{"kind":"Name","value":"sort"}}},{"kind":"Argument","name":{"kind":"Name","value":"compressed"},"value":{"kind":"Variable","name":{"kind":"Name","value":"compressed"}}},{"kind":"Argument","name":{"kind":"Name","value":"search"},"value":{"kind":"Variable","name":{"kind":"Name","value":"search"}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"commonPrefixes"}},{"kind":"Field","name":{"kind":"Name","value":"totalCount"}},{"kind":"Field","name":{"kind":"Name","value":"pageInfo"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"hasNextPage"}},{"kind":"Field","name":{"kind":"Name","value":"endCursor"}}]}},{"kind":"Field","name":{"kind":"Name","value":"edges"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"cursor"}},{"kind":"Field","name":{"kind":"Name","value":"node"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"FragmentSpread","name":{"kind":"Name","value":"ObjectFields"}}]}}]}}]}}]}}]}},{"kind":"FragmentDefinition","name":{"kind":"Name","value":"ObjectFields"},"typeCondition":{"kind":"NamedType","name":{"kind":"Name","value":"StoredObject"}},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"id"}},{"kind":"Field","name":{"kind":"Name","value":"bucket"}},{"kind":"Field","name":{"kind":"Name","value":"key"}},{"kind":"Field","name":{"kind":"Name","value":"name"}},{"kind":"Field","name":{"kind":"Name","value":"originalBytes"}},{"kind":"Field","name":{"kind":"Name","value":"storedBytes"}},{"kind":"Field","name":{"kind":"Name","value":"compressed"}},{"kind":"Field","name":{"kind":"Name","value":"savingsPct"}},{"kind":"Field","name":{"kind":"Name","value":"modified"}},{"kind":"Field","name":{"kind":"Name","value":"acceptRanges"}}]}}]} as unknown as DocumentNode<FolderQuery, FolderQueryVariables>;
export const StoredObjectDocument = {"kind":"Document","definitions":[{"kind":"OperationDefinition","operation":"query","name":{"kind":"Name","value":"StoredObject"},"variableDefinitions":[{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"bucket"}},"type":{"kind":"NonNullType","type":{"kind":"NamedType","name":{"kind":"Name","value":"String"}}}},{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"key"}},"type":{"kind":"NonNullType","type":{"kind":"NamedType","name":{"kind":"Name","value":"String"}}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"object"},"arguments":[{"kind":"Argument","name":{"kind":"Name","value":"bucket"},"value":{"kind":"Variable","name":{"kind":"Name","value":"bucket"}}},{"kind":"Argument","name":{"kind":"Name","value":"key"},"value":{"kind":"Variable","name":{"kind":"Name","value":"key"}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"FragmentSpread","name":{"kind":"Name","value":"ObjectFields"}},{"kind":"Field","name":{"kind":"Name","value":"sha256"}}]}}]}},{"kind":"FragmentDefinition","name":{"kind":"Name","value":"ObjectFields"},"typeCondition":{"kind":"NamedType","name":{"kind":"Name","value":"StoredObject"}},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"id"}},{"kind":"Field","name":{"kind":"Name","value":"bucket"}},{"kind":"Field","name":{"kind":"Name","value":"key"}},{"kind":"Field","name":{"kind":"Name","value":"name"}},{"kind":"Field","name":{"kind":"Name","value":"originalBytes"}},{"kind":"Field","name":{"kind":"Name","value":"storedBytes"}},{"kind":"Field","name":{"kind":"Name","value":"compressed"}},{"kind":"Field","name":{"kind":"Name","value":"savingsPct"}},{"kind":"Field","name":{"kind":"Name","value":"modified"}},{"kind":"Field","name":{"kind":"Name","value":"acceptRanges"}}]}}]} as unknown as DocumentNode<StoredObjectQuery, StoredObjectQueryVariables>;
export const NodeDocument = {"kind":"Document","definitions":[{"kind":"OperationDefinition","operation":"query","name":{"kind":"Name","value":"Node"},"variableDefinitions":[{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"id"}},"type":{"kind":"NonNullType","type":{"kind":"NamedType","name":{"kind":"Name","value":"ID"}}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"node"},"arguments":[{"kind":"Argument","name":{"kind":"Name","value":"id"},"value":{"kind":"Variable","name":{"kind":"Name","value":"id"}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"id"}},{"kind":"Field","name":{"kind":"Name","value":"__typename"}},{"kind":"InlineFragment","typeCondition":{"kind":"NamedType","name":{"kind":"Name","value":"Bucket"}},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"name"}}]}},{"kind":"InlineFragment","typeCondition":{"kind":"NamedType","name":{"kind":"Name","value":"StoredObject"}},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"bucket"}},{"kind":"Field","name":{"kind":"Name","value":"key"}}]}}]}}]}}]} as unknown as DocumentNode<NodeQuery, NodeQueryVariables>;
export const ComputeSavingsDocument = {"kind":"Document","definitions":[{"kind":"OperationDefinition","operation":"mutation","name":{"kind":"Name","value":"ComputeSavings"},"variableDefinitions":[{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"bucket"}},"type":{"kind":"NonNullType","type":{"kind":"NamedType","name":{"kind":"Name","value":"String"}}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"computeSavings"},"arguments":[{"kind":"Argument","name":{"kind":"Name","value":"input"},"value":{"kind":"ObjectValue","fields":[{"kind":"ObjectField","name":{"kind":"Name","value":"bucket"},"value":{"kind":"Variable","name":{"kind":"Name","value":"bucket"}}}]}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"job"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"taskId"}},{"kind":"Field","name":{"kind":"Name","value":"bucket"}},{"kind":"Field","name":{"kind":"Name","value":"state"}}]}}]}}]}}]} as unknown as DocumentNode<ComputeSavingsMutation, ComputeSavingsMutationVariables>;
export const PrepareDownloadDocument = {"kind":"Document","definitions":[{"kind":"OperationDefinition","operation":"mutation","name":{"kind":"Name","value":"PrepareDownload"},"variableDefinitions":[{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"bucket"}},"type":{"kind":"NonNullType","type":{"kind":"NamedType","name":{"kind":"Name","value":"String"}}}},{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"key"}},"type":{"kind":"NonNullType","type":{"kind":"NamedType","name":{"kind":"Name","value":"String"}}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"prepareDownload"},"arguments":[{"kind":"Argument","name":{"kind":"Name","value":"input"},"value":{"kind":"ObjectValue","fields":[{"kind":"ObjectField","name":{"kind":"Name","value":"bucket"},"value":{"kind":"Variable","name":{"kind":"Name","value":"bucket"}}},{"kind":"ObjectField","name":{"kind":"Name","value":"key"},"value":{"kind":"Variable","name":{"kind":"Name","value":"key"}}}]}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"download"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"token"}},{"kind":"Field","name":{"kind":"Name","value":"url"}},{"kind":"Field","name":{"kind":"Name","value":"estimatedBytes"}},{"kind":"Field","name":{"kind":"Name","value":"expiresAt"}}]}}]}}]}}]} as unknown as DocumentNode<PrepareDownloadMutation, PrepareDownloadMutationVariables>;
export const DeleteObjectDocument = {"kind":"Document","definitions":[{"kind":"OperationDefinition","operation":"mutation","name":{"kind":"Name","value":"DeleteObject"},"variableDefinitions":[{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"bucket"}},"type":{"kind":"NonNullType","type":{"kind":"NamedType","name":{"kind":"Name","value":"String"}}}},{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"key"}},"type":{"kind":"NonNullType","type":{"kind":"NamedType","name":{"kind":"Name","value":"String"}}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"deleteObject"},"arguments":[{"kind":"Argument","name":{"kind":"Name","value":"input"},"value":{"kind":"ObjectValue","fields":[{"kind":"ObjectField","name":{"kind":"Name","value":"bucket"},"value":{"kind":"Variable","name":{"kind":"Name","value":"bucket"}}},{"kind":"ObjectField","name":{"kind":"Name","value":"key"},"value":{"kind":"Variable","name":{"kind":"Name","value":"key"}}}]}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"deletedId"}}]}}]}}]} as unknown as DocumentNode<DeleteObjectMutation, DeleteObjectMutationVariables>;
export const SavingsProgressDocument = {"kind":"Document","definitions":[{"kind":"OperationDefinition","operation":"subscription","name":{"kind":"Name","value":"SavingsProgress"},"variableDefinitions":[{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"bucket"}},"type":{"kind":"NonNullType","type":{"kind":"NamedType","name":{"kind":"Name","value":"String"}}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"savingsProgress"},"arguments":[{"kind":"Argument","name":{"kind":"Name","value":"bucket"},"value":{"kind":"Variable","name":{"kind":"Name","value":"bucket"}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"taskId"}},{"kind":"Field","name":{"kind":"Name","value":"bucket"}},{"kind":"Field","name":{"kind":"Name","value":"state"}},{"kind":"Field","name":{"kind":"Name","value":"scannedObjects"}},{"kind":"Field","name":{"kind":"Name","value":"objectCount"}},{"kind":"Field","name":{"kind":"Name","value":"originalBytes"}},{"kind":"Field","name":{"kind":"Name","value":"storedBytes"}},{"kind":"Field","name":{"kind":"Name","value":"savingsPct"}},{"kind":"Field","name":{"kind":"Name","value":"errorCode"}}]}}]}}]} as unknown as DocumentNode<SavingsProgressSubscription, SavingsProgressSubscriptionVariables>;