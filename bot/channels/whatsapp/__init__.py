"""WhatsApp (Cloud API): webhook, inbox and its worker, rendering and delivery, the Graph API
client."""
