"""Entry module for AWS Lambda: set the function's handler to ``main.lambda_handler``."""

from handler import router

from veba_sdk.adapters.aws_lambda import handler

lambda_handler = handler(router)
