from celery import shared_task

from saas_platform.review.actions import check_licence_expiry


@shared_task(name="review.check_licence_expiry")
def check_licence_expiry_task() -> dict:
    return check_licence_expiry()
