"""AWS Lambda entry point for EventBridge (or SQS) events: ``lambda_function.lambda_handler``."""

from veba_sdk.adapters.aws_lambda import handler

from .handler import router

lambda_handler = handler(router)
