"""Lambda functions of the reporting platform and the code they share."""
