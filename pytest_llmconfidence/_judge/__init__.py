"""The judge: prompts to requests, requests through the client, answers to results."""
