"""WhatsApp (Cloud API): webhook and inbox, rendering, the Graph API client."""
