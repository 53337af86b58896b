/**
 * The JSON Schema (draft 4, the version API Gateway models use) of `POST /event` bodies. API Gateway's
 * request validator applies it before the authorizer's result is used and before EventBridge is called;
 * local mode validates with the same object.
 */
import { MAX_ENTRIES_PER_REQUEST, MAX_ENTRY_LENGTH } from "./limits";

/** Name of the API Gateway model (alphanumeric only). */
export const REQUEST_MODEL_NAME = "ClientEventsRequest";

export const REQUEST_MODEL_SCHEMA = {
    $schema: "http://json-schema.org/draft-04/schema#",
    title: REQUEST_MODEL_NAME,
    description: "A batch of 1 to 10 client events; each entry is one event as a JSON string.",
    type: "object",
    required: ["entries"],
    additionalProperties: false,
    properties: {
        entries: {
            type: "array",
            minItems: 1,
            maxItems: MAX_ENTRIES_PER_REQUEST,
            items: {
                type: "object",
                required: ["entry"],
                additionalProperties: false,
                properties: {
                    entry: {
                        description: 'One event, serialized as a JSON object, e.g. {"eventType":"shopping","schemaVersion":1,"data":{}}',
                        type: "string",
                        minLength: 1,
                        maxLength: MAX_ENTRY_LENGTH,
                    },
                },
            },
        },
    },
} as const;
