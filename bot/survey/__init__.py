"""The needs survey: the questionnaire as data, its pure logic, the chat flow, results,
spreadsheets and the monitoring report."""
