"""The electronic archive (电子档案): one zip package per closed case, built by the scheduler, searched,
downloaded and checked by archivists, and listed for disposal once its retention period has passed."""
